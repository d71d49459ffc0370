"""Shared helpers of the web-app tests: an indexed data directory, the app server in a
subprocess on a free loopback port, and a small OpenAI-compatible server (images and chat) on
loopback that returns real PNG data made with Pillow.

Imported by the ``test_ui_*`` modules (``from ui_support import ...``); nothing here is a fixture,
so every module decides its own scopes.
"""

from __future__ import annotations

import base64
import io
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
from process_support import free_port, stop_process

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
_TEMPLATES: dict[str, Path] = {}
_TEMPLATE_LOCK = threading.Lock()


def offline_env(data_dir: Path, **extra: str) -> dict[str, str]:
    """The environment of a child process: this data dir, extractive answers, nothing online."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ASSISTANT_", "OPENAI_"))}
    env.update(
        ASSISTANT_DATA_DIR=str(data_dir),
        ASSISTANT_LLM="extractive",
        HF_HUB_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
        GRADIO_ANALYTICS_ENABLED="False",
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


def indexed_data_dir(tmp_path_factory, name: str = "data") -> Path:
    """A fresh copy of a data directory holding the indexed corpus (indexed once per run with the
    real CLI: USE embedder, real Chroma)."""
    with _TEMPLATE_LOCK:
        template = _TEMPLATES.get("corpus")
        if template is None:
            template = tmp_path_factory.mktemp("ui-template") / "data"
            result = subprocess.run(
                [sys.executable, "-m", "assistant", "index", str(CORPUS), "--json"],
                env=offline_env(template),
                capture_output=True,
                text=True,
                timeout=600,
            )
            assert result.returncode == 0, result.stderr
            _TEMPLATES["corpus"] = template
    target = tmp_path_factory.mktemp(name) / "data"
    shutil.copytree(template, target, ignore=shutil.ignore_patterns("index.lock*"))
    return target


# --- the app server ---------------------------------------------------------------------------


@dataclass
class AppServer:
    process: subprocess.Popen
    url: str
    port: int
    data_dir: Path
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self) -> int:
        return stop_process(self.process)


def start_app_server(
    data_dir: Path,
    *,
    cwd: Path | None = None,
    host: str | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 180.0,
) -> AppServer:
    """`survey-assistant serve` in a subprocess (default host from the settings unless given)."""
    port = free_port()
    command = [sys.executable, "-m", "assistant", "serve", "--port", str(port)]
    if host:
        command += ["--host", host]
    log_path = data_dir.parent / f"serve-{port}.log"
    handle = log_path.open("w")
    process = subprocess.Popen(
        command,
        cwd=str(cwd or data_dir.parent),
        env=offline_env(data_dir, **(env or {})),
        stdout=handle,
        stderr=subprocess.STDOUT,
    )
    handle.close()
    server = AppServer(process, f"http://127.0.0.1:{port}/", port, data_dir, log_path)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited early ({process.returncode}):\n{server.log()}")
        try:
            if httpx.get(server.url, timeout=2).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    server.stop()
    raise RuntimeError(f"the server did not start in {timeout:.0f} s:\n{server.log()}")


# --- a small OpenAI-compatible server (images + chat) on loopback -------------------------------


def png_bytes(width: int, height: int, seed: str) -> bytes:
    """A real PNG: a two-colour gradient with a circle, colours derived from the prompt."""
    from PIL import Image, ImageDraw

    digest = abs(hash(seed)) % (1 << 24)
    base = ((digest >> 16) & 255, (digest >> 8) & 255, digest & 255)
    image = Image.new("RGB", (width, height), base)
    draw = ImageDraw.Draw(image)
    for y in range(0, height, 4):
        shade = int(255 * y / max(height - 1, 1))
        draw.rectangle([0, y, width, y + 3], fill=(shade, base[1], 255 - shade))
    r = min(width, height) // 4
    draw.ellipse(
        [width // 2 - r, height // 2 - r, width // 2 + r, height // 2 + r], fill=(250, 200, 60)
    )
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def _reply_words(prompt: str) -> list[str]:
    """An answer prompt (fenced passages) gets what a grounded model writes: the first passage's
    first sentence, cited, in pieces; then an English sentence that names nothing. Any other
    prompt is echoed."""
    passage = re.search(r"<passage>\n[^\n]*\n([^\n]+)", prompt)
    if passage:
        sentence = re.split(r"(?<=[。！？])", passage.group(1).strip())[0].rstrip("。")
        pieces = [sentence[i : i + 4] for i in range(0, len(sentence), 4)]
        return [
            *pieces,
            "[1]。",
            "Echo:",
            "and",
            "that",
            "is",
            "all.",
            "STOPWORD",
            "after",
            "stop.",
        ]
    words = prompt.split() or ["…"]
    return ["Echo:", *words, "and", "that", "is", "all.", "STOPWORD", "after", "stop."]


@dataclass
class FakeOpenAI:
    """Records every request body; ``model`` values trigger failure modes:
    ``url-only`` (URLs instead of b64_json), ``broken`` (HTTP 500)."""

    server: ThreadingHTTPServer
    requests: list[dict] = field(default_factory=list)
    chunk_delay_s: float = 0.0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"


def _handler(fake_ref: list[FakeOpenAI]):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):  # quiet
            pass

        def _json(self, status: int, payload: dict) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self):
            fake = fake_ref[0]
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}")
            fake.requests.append({"path": self.path, **body})
            if body.get("model") == "broken":
                self._json(500, {"error": {"message": "internal failure", "type": "server_error"}})
            elif self.path.endswith("/images/generations"):
                self._images(body)
            elif self.path.endswith("/chat/completions"):
                self._chat(body, fake)
            else:
                self._json(404, {"error": {"message": "not found"}})

        def _images(self, body: dict) -> None:
            width, height = (int(v) for v in str(body.get("size", "256x256")).split("x"))
            n = int(body.get("n", 1))
            if body.get("model") == "url-only":
                data = [{"url": "http://127.0.0.1:9/elsewhere.png"} for _ in range(n)]
            else:
                data = [
                    {
                        "b64_json": base64.b64encode(
                            png_bytes(width, height, f"{body.get('prompt')}{i}")
                        ).decode()
                    }
                    for i in range(n)
                ]
            self._json(200, {"created": int(time.time()), "data": data})

        def _chat(self, body: dict, fake: FakeOpenAI) -> None:
            prompt = str(body["messages"][-1]["content"])
            words = _reply_words(prompt if "<passage>" in prompt else prompt[-200:])
            limit = body.get("max_tokens") or body.get("max_completion_tokens") or 64
            words = words[: int(limit)]
            text = " ".join(words)
            for stop in body.get("stop") or []:
                if stop in text:
                    text = text[: text.index(stop)]
            if not body.get("stream"):
                self._json(
                    200,
                    {
                        "id": "chatcmpl-1",
                        "object": "chat.completion",
                        "created": 0,
                        "model": body.get("model"),
                        "choices": [
                            {
                                "index": 0,
                                "message": {"role": "assistant", "content": text},
                                "finish_reason": "stop",
                            }
                        ],
                    },
                )
                return
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.end_headers()
            pieces = [w + " " for w in text.split(" ")]
            for piece in pieces:
                chunk = {
                    "id": "chatcmpl-1",
                    "object": "chat.completion.chunk",
                    "created": 0,
                    "model": body.get("model"),
                    "choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}],
                }
                self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                self.wfile.flush()
                if fake.chunk_delay_s:
                    time.sleep(fake.chunk_delay_s)
            end = {
                "id": "chatcmpl-1",
                "object": "chat.completion.chunk",
                "created": 0,
                "model": body.get("model"),
                "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
            }
            self.wfile.write(f"data: {json.dumps(end)}\n\ndata: [DONE]\n\n".encode())
            self.wfile.flush()

    return Handler


@contextmanager
def fake_openai_server(chunk_delay_s: float = 0.0) -> Iterator[FakeOpenAI]:
    ref: list[FakeOpenAI] = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(ref))
    fake = FakeOpenAI(server, chunk_delay_s=chunk_delay_s)
    ref.append(fake)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
