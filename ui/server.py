"""Serving the Blocks app safely: loopback by default, no share link, no CORS, a Host check, and
nothing of the data directory or the source tree reachable through Gradio's file route.

Gradio is mounted inside a small FastAPI app run by uvicorn (``gr.mount_gradio_app``), so the
outer app owns the security middleware:

- ``TrustedHostMiddleware``: on a loopback bind only ``127.0.0.1`` / ``localhost`` are accepted as
  Host, which stops DNS-rebinding pages from talking to the app through another name;
- Starlette's ``CORSMiddleware`` with no allowed origin: its presence also switches Gradio's own
  CORS handling off (which would reflect any Origin when the Host is not a localhost name), so
  no response ever carries ``Access-Control-Allow-Origin`` for a foreign page.

Gradio's upload and cache folder (``GRADIO_TEMP_DIR``) is a private temporary folder, outside the
source tree and the data directory, deleted when the server stops.
"""

from __future__ import annotations

import contextlib
import ipaddress
import logging
import os
import shutil
import signal
import socket
import tempfile
import threading
from pathlib import Path

import uvicorn

from assistant.errors import AssistantError, UsageError
from assistant.settings import SOURCE_ROOT, Settings

log = logging.getLogger(__name__)
LOOPBACK_NAMES = ("127.0.0.1", "localhost")
_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def prepare_gradio_environment(settings: Settings) -> Path:
    """A private folder for Gradio's uploads and caches; set before the app is built."""
    base = Path(tempfile.gettempdir()).resolve()
    for protected in (settings.data_dir, SOURCE_ROOT):
        if base == protected or protected in base.parents:
            raise UsageError(
                f"The temporary folder {base} is inside {protected}; set TMPDIR to another folder."
            )
    remove_stale_gradio_folders(base)
    folder = Path(tempfile.mkdtemp(prefix=GRADIO_PREFIX, dir=base))
    (folder / OWNER_FILE).write_text(str(os.getpid()), encoding="utf-8")
    os.environ["GRADIO_TEMP_DIR"] = str(folder)
    os.environ["GRADIO_EXAMPLES_CACHE"] = str(folder / "examples")
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"  # no version check or telemetry calls
    return folder


GRADIO_PREFIX = "survey-assistant-gradio-"
OWNER_FILE = ".owner-pid"


def remove_stale_gradio_folders(base: Path) -> list[Path]:
    """Delete the Gradio folders that servers killed without their clean-up (SIGKILL, power
    loss) left in ``base``: those whose owner process is gone. A folder of a running server, or
    one whose owner is unknown, is left alone."""
    removed = []
    for folder in base.glob(f"{GRADIO_PREFIX}*"):
        try:
            if folder.is_symlink() or not folder.is_dir():
                continue
            pid = int((folder / OWNER_FILE).read_text(encoding="utf-8").strip())
        except (OSError, ValueError):
            continue
        if pid == os.getpid() or _alive(pid):
            continue
        shutil.rmtree(folder, ignore_errors=True)
        removed.append(folder)
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process
    return True


def blocked_paths(settings: Settings, gradio_dir: Path) -> list[str]:
    """Folders Gradio must never serve from, even if a component returned a path inside them.
    (Gradio serves only its own temp folder anyway; this is the second line.)"""
    candidates = [settings.data_dir, SOURCE_ROOT, settings.corpus_dir, Path.cwd().resolve()]
    blocked = []
    for path in candidates:
        path = Path(path).resolve()
        if path == gradio_dir or path in gradio_dir.parents:
            continue  # blocking a parent of Gradio's own folder would break uploads
        blocked.append(str(path))
    return list(dict.fromkeys(blocked))


def allowed_hosts(host: str) -> list[str]:
    if host in ("0.0.0.0", "::"):
        return ["*"]  # bound to every interface on purpose: any name may reach it
    names = [*LOOPBACK_NAMES]
    if not is_loopback(host):
        names.append(host)
    return names


def check_port_free(host: str, port: int) -> None:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise AssistantError(
                f"Cannot listen on {host}:{port} ({exc.strerror or exc}); stop the other server "
                "or choose another port with --port."
            ) from None


def create_server_app(blocks, settings: Settings, *, host: str, port: int, gradio_dir: Path):
    import gradio as gr
    from fastapi import FastAPI
    from starlette.middleware.cors import CORSMiddleware
    from starlette.middleware.trustedhost import TrustedHostMiddleware

    from .file_params import FileParamGuard
    from .theme import CSS, build_theme

    outer = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    outer.add_middleware(CORSMiddleware, allow_origins=[], allow_credentials=False)
    outer.add_middleware(TrustedHostMiddleware, allowed_hosts=allowed_hosts(host))
    outer.add_middleware(SecurityHeaders)
    # Before Gradio reads a file parameter: only files uploaded to this app (file_params.py).
    outer.add_middleware(FileParamGuard, upload_root=gradio_dir)
    return gr.mount_gradio_app(
        outer,
        blocks,
        path="/",
        server_name=host,
        server_port=port,
        footer_links=["api"],
        run_history=False,
        allowed_paths=[],
        blocked_paths=blocked_paths(settings, gradio_dir),
        show_error=True,
        max_file_size=f"{max(1, int(settings.max_upload_mb * 1024))}kb",
        ssr_mode=False,
        enable_monitoring=False,
        mcp_server=False,
        pwa=False,
        theme=build_theme(),
        css=CSS,
    )


class SecurityHeaders:
    """Adds ``nosniff`` and a no-referrer policy to every HTTP response."""

    HEADERS = ((b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"no-referrer"))

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                extra = [(k, v) for k, v in self.HEADERS if k not in present]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def serve(components, host: str | None = None, port: int | None = None) -> int:
    """Run the web app until interrupted (bound to ``settings.host``, 127.0.0.1 by default; never
    shared through a public link). Returns the exit code."""
    settings = components.settings
    return run_server(components, host or settings.host, port or settings.port)


def run_server(components, host: str, port: int) -> int:
    """Build, bind and serve until interrupted; the exit code of `serve`."""
    settings = components.settings
    check_port_free(host, port)
    gradio_dir = prepare_gradio_environment(settings)
    try:
        from assistant.api import Assistant

        from .app import build_app

        assistant = Assistant(components=components)
        blocks = build_app(components, assistant=assistant, upload_root=gradio_dir)
        app = create_server_app(blocks, settings, host=host, port=port, gradio_dir=gradio_dir)
        # Not a daemon: a stop signal during the warm-up waits for it. A daemon thread still
        # inside native code (sentencepiece, llama.cpp) when the interpreter finalizes is unwound
        # by force and aborts the process.
        threading.Thread(target=_warm_up, args=(assistant,), name="warm-up").start()
        if not is_loopback(host):
            log.warning("The web app listens on %s: it is reachable from other machines.", host)
        print(f"Survey Assistant: http://{host}:{port}/  (Ctrl+C to stop)", flush=True)
        server = _GracefulServer(
            uvicorn.Config(
                app,
                host=host,
                port=port,
                log_level="warning",
                access_log=False,
                server_header=False,
                timeout_graceful_shutdown=5,
            )
        )
        server.run()
        return 0 if server.started else 1
    finally:
        shutil.rmtree(gradio_dir, ignore_errors=True)


class _GracefulServer(uvicorn.Server):
    """Stops on SIGINT/SIGTERM and returns, so `serve` exits 0: stopping is how a server ends.
    uvicorn's own ``capture_signals`` raises the caught signal again after its shutdown, which
    would end the process with -15 and skip the clean-up of Gradio's temporary folder; this one
    installs and restores the same handlers, and does not."""

    @contextlib.contextmanager
    def capture_signals(self):
        if threading.current_thread() is not threading.main_thread():
            yield  # signals reach only the main thread; a server run elsewhere is stopped in code
            return
        previous = {sig: signal.signal(sig, self.handle_exit) for sig in _STOP_SIGNALS}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


def _warm_up(assistant) -> None:
    """Load everything the first question needs before it comes."""
    try:
        assistant.warm_up()
    except Exception:  # nothing indexed yet, or a model problem the first question will report
        log.debug("warm-up stopped", exc_info=True)
