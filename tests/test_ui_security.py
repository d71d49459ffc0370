"""The web app over real HTTP (reliability items 15, 16, 18): the server runs as
`survey-assistant serve` in a subprocess on a free loopback port, with its working directory in
the source tree (as `make run` has it) and a data directory holding an index, an upload and a
`.env` file with a fake secret."""

from __future__ import annotations

import json
import os
import signal
import socket
import tempfile
from pathlib import Path
from urllib.parse import quote

import httpx
import psutil
import pytest
from ui_support import ROOT, indexed_data_dir, start_app_server

pytestmark = pytest.mark.integration
SECRET = "sk-test-DO-NOT-SERVE-4242"
UPLOAD_LIMIT_MB = 1


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    data_dir = indexed_data_dir(tmp_path_factory, "security")
    (data_dir / ".env").write_text(f"OPENAI_API_KEY={SECRET}\n")
    uploads = data_dir / "uploads"
    uploads.mkdir()
    (uploads / "private.md").write_text(f"# 私有\n\n{SECRET}\n", encoding="utf-8")
    app = start_app_server(
        data_dir, cwd=ROOT, env={"ASSISTANT_MAX_UPLOAD_MB": str(UPLOAD_LIMIT_MB)}
    )  # no --host: the settings' default bind address
    yield app
    app.stop()


def get(server, path: str, **headers: str) -> httpx.Response:
    return httpx.get(server.url.rstrip("/") + path, headers=headers, timeout=10)


def _file_probes(data_dir: Path) -> list[str]:
    manifest = data_dir / "manifests" / "survey.json"
    chroma = data_dir / "chroma" / "chroma.sqlite3"
    targets = [
        "/etc/passwd",
        str(data_dir / ".env"),
        str(data_dir / "uploads" / "private.md"),
        str(manifest),
        str(chroma),
        str(ROOT / "pyproject.toml"),
        str(ROOT / "assistant" / "settings.py"),
        str(ROOT / "corpus" / "ai_large_models_survey.md"),
        "pyproject.toml",  # relative: resolved against the server's working directory
        ".env",
        "../../../../../../etc/passwd",
        "/tmp/../etc/passwd",
        f"{data_dir}/../{data_dir.name}/.env",
        f"{data_dir}/chroma/../.env",
        "%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
        "..%2f..%2f..%2f..%2fetc%2fpasswd",
        "/etc/./passwd",
        "//etc/passwd",
        "file:///etc/passwd",
        str(data_dir).upper() + "/.ENV",
    ]
    assert manifest.is_file() and chroma.is_file()
    return targets


def test_file_route_refuses_everything_outside_gradio_files(server):
    refused = 0
    for target in _file_probes(server.data_dir):
        for path in (
            f"/gradio_api/file={target}",
            f"/gradio_api/file={quote(target, safe='')}",
            f"/file={target}",
        ):
            response = get(server, path)
            body = response.text
            assert response.status_code in (400, 403, 404), (path, response.status_code)
            assert "root:" not in body and SECRET not in body and "[build-system]" not in body
            assert '"documents"' not in body
            refused += 1
    print(f"\nfile= probes refused: {refused}")


def test_a_file_the_app_created_is_still_served(server):
    """The refusals above are the policy, not a broken file route."""
    response = httpx.post(
        server.url + "gradio_api/upload",
        files=[("files", ("ok.txt", "可以下载".encode(), "text/plain"))],
        timeout=10,
    )
    assert response.status_code == 200
    served = get(server, f"/gradio_api/file={response.json()[0]}")
    assert served.status_code == 200 and served.text == "可以下载"
    assert not str(response.json()[0]).startswith(str(server.data_dir))
    assert not str(response.json()[0]).startswith(str(ROOT))


def test_no_cors_for_a_foreign_origin(server):
    evil = "http://evil.example"
    for path in ("/", "/config", "/gradio_api/info", "/gradio_api/upload_progress"):
        response = get(server, path, Origin=evil)
        assert response.headers.get("access-control-allow-origin") not in (evil, "*"), path
    post = httpx.post(
        server.url + "gradio_api/upload",
        files=[("files", ("x.txt", b"x", "text/plain"))],
        headers={"Origin": evil},
        timeout=10,
    )
    assert post.headers.get("access-control-allow-origin") not in (evil, "*")
    preflight = httpx.options(
        server.url + "gradio_api/queue/join",
        headers={"Origin": evil, "Access-Control-Request-Method": "POST"},
        timeout=10,
    )
    assert preflight.headers.get("access-control-allow-origin") not in (evil, "*")
    # A page on localhost is the app itself; a null origin (sandboxed frame) gets nothing either.
    null = get(server, "/config", Origin="null")
    assert null.headers.get("access-control-allow-origin") in (None, "")


def test_foreign_host_header_is_refused(server):
    """DNS rebinding: a page on evil.example resolving to 127.0.0.1 sends Host: evil.example."""
    for host in ("evil.example", f"evil.example:{server.port}", "127.0.0.1.nip.io"):
        response = get(server, "/config", Host=host, Origin="http://" + host)
        assert response.status_code == 400
        assert response.headers.get("access-control-allow-origin") is None
    assert get(server, "/config", Host=f"localhost:{server.port}").status_code == 200


def test_binds_loopback_only_and_no_share_link(server):
    listening = {
        conn.laddr.ip
        for conn in psutil.Process(server.process.pid).net_connections(kind="inet")
        if conn.status == psutil.CONN_LISTEN and conn.laddr.port == server.port
    }
    assert listening == {"127.0.0.1"}
    others = {
        addr.address
        for addrs in psutil.net_if_addrs().values()
        for addr in addrs
        if addr.family == socket.AF_INET and not addr.address.startswith("127.")
    }
    for address in others:
        with socket.socket() as probe, pytest.raises(OSError):
            probe.settimeout(2)
            probe.connect((address, server.port))
    log = server.log()
    assert "gradio.live" not in log and "Traceback" not in log
    config = get(server, "/config").json()
    assert not config.get("share_url")


def test_upload_limits_are_enforced_by_the_server(server):
    too_big = b"a" * (UPLOAD_LIMIT_MB * 1024 * 1024 + 10)
    response = httpx.post(
        server.url + "gradio_api/upload",
        files=[("files", ("big.txt", too_big, "text/plain"))],
        timeout=30,
    )
    assert response.status_code == 413
    assert "Traceback" not in response.text


def test_upload_endpoint_refuses_bad_files_without_touching_the_index(server):
    from gradio_client import Client, handle_file
    from gradio_client.exceptions import AppError

    tmp = server.data_dir.parent
    png = tmp / "screenshot.md"
    png.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(200))
    fake_pdf = tmp / "paper.pdf"
    fake_pdf.write_text("<html>not a pdf</html>")
    script = tmp / "run.sh"
    script.write_text("#!/bin/sh\necho hi\n")
    client = Client(server.url, verbose=False)
    before = sorted(p.name for p in (server.data_dir / "uploads").iterdir())
    status, *_ = client.predict([handle_file(png), handle_file(fake_pdf)], api_name="/upload")
    assert "screenshot.md" in status and "PNG" in status
    assert "paper.pdf" in status and "not a PDF" in status
    assert "✔" not in status
    with pytest.raises(AppError, match="Invalid file type"):
        client.predict([handle_file(script)], api_name="/upload")
    after = sorted(p.name for p in (server.data_dir / "uploads").iterdir())
    assert after == before
    many = [handle_file(png)] * 11  # the default limit is 10 files
    status, *_ = client.predict(many, api_name="/upload")
    assert "over the limit of 10" in status


def test_sigterm_stops_the_server_cleanly(tmp_path_factory):
    data_dir = indexed_data_dir(tmp_path_factory, "stop")
    app = start_app_server(data_dir)
    app.process.send_signal(signal.SIGTERM)
    assert app.process.wait(timeout=30) == 0


def test_a_busy_port_is_one_clear_error(tmp_path):
    import subprocess
    import sys

    from ui_support import free_port, offline_env

    port = free_port()
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", port))
        busy.listen(1)
        result = subprocess.run(
            [sys.executable, "-m", "assistant", "serve", "--port", str(port)],
            env=offline_env(tmp_path / "data"),
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and f"127.0.0.1:{port}" in lines[0] and "--port" in lines[0]


def _call(server, api_name: str, data: list) -> str:
    """An endpoint called as any HTTP client can (Gradio's queue API): the whole event stream."""
    base = server.url.rstrip("/")
    started = httpx.post(
        f"{base}/gradio_api/call/{api_name.lstrip('/')}", json={"data": data}, timeout=30
    )
    if started.status_code != 200:
        return started.text
    event = started.json()["event_id"]
    return httpx.get(f"{base}/gradio_api/call/{api_name.lstrip('/')}/{event}", timeout=120).text


def _hostile_value(parameter: dict, path: str):
    """What an attacker sends for one parameter: a server path where a file or text goes."""
    kind = json.dumps(parameter.get("type", {})) + str(parameter.get("component", ""))
    file = {"path": path, "meta": {"_type": "gradio.FileData"}, "orig_name": Path(path).name}
    if "FileData" in kind or parameter.get("component") in ("File", "Files", "UploadButton"):
        return [file] if "array" in kind or parameter.get("component") == "Files" else file
    if '"number"' in kind or '"integer"' in kind:
        return parameter.get("parameter_default", 1) or 1
    if '"boolean"' in kind:
        return False
    return path


def test_no_endpoint_reads_copies_or_probes_a_server_path(server):
    """Every public endpoint (`view_api()`), called with server paths in every parameter: a
    secret file outside every allowed folder, a named pipe (opening it for reading would show),
    a folder that exists and one that does not. Nothing of the secret comes back, nothing is
    copied into the data directory, the pipe is never opened, and an existing folder gets the
    same answer as a missing one."""
    from gradio_client import Client

    outside = server.data_dir.parent / "outside-secrets"
    outside.mkdir(exist_ok=True)
    canary = "CANARY-ENDPOINT-9902"
    secret = outside / "secret.md"
    secret.write_text(f"# 机密\n\n{canary}\n", encoding="utf-8")
    pipe = outside / "pipe.md"
    os.mkfifo(pipe)
    existing, missing = str(outside), str(outside / "no-such-folder")
    endpoints = Client(server.url, verbose=False).view_api(return_format="dict", print_info=False)
    named = endpoints["named_endpoints"]
    assert "/upload" in named and "/bert_classify" in named
    before = sorted(p.name for p in server.data_dir.rglob("*"))
    for api_name, info in named.items():
        params = info["parameters"]
        for path in (str(secret), str(pipe), "../../outside-secrets/secret.md"):
            body = _call(server, api_name, [_hostile_value(p, path) for p in params])
            assert canary not in body, (api_name, body[:300])
            try:  # a reader that opened the pipe would let this open succeed
                fd = os.open(pipe, os.O_WRONLY | os.O_NONBLOCK)
            except OSError:
                pass
            else:
                os.close(fd)
                raise AssertionError(f"{api_name} opened a server file for reading")
    # The endpoints that take a file or a folder: an existing folder and a missing one get the
    # same answer (after the folder itself), so they cannot be told apart.
    for api_name in ("/upload", "/bert_classify"):
        params = named[api_name]["parameters"]
        answers = [
            _call(server, api_name, [_hostile_value(p, folder) for p in params])
            .replace(folder, "X")
            .replace(Path(folder).name, "X")
            for folder in (existing, missing)
        ]
        assert answers[0] == answers[1], (api_name, answers)
    after = sorted(p.name for p in server.data_dir.rglob("*"))
    assert "secret.md" not in after and "pipe.md" not in after
    assert set(after) - set(before) <= {"index.lock"}, set(after) - set(before)


def test_uploaded_files_leave_gradio_s_folder_once_indexed(server):
    from gradio_client import Client, handle_file

    doc = server.data_dir.parent / "transient-notes.md"
    doc.write_text("# 临时笔记\n\n这份笔记只为测试上传后的清理。\n", encoding="utf-8")
    (gradio_dir,) = [
        folder
        for folder in Path(tempfile.gettempdir()).glob("survey-assistant-gradio-*")
        if (folder / ".owner-pid").is_file()
        and (folder / ".owner-pid").read_text().strip() == str(server.process.pid)
    ]
    status, *_ = Client(server.url, verbose=False).predict([handle_file(doc)], api_name="/upload")
    assert "transient-notes.md" in status and "✔" in status
    assert (server.data_dir / "uploads" / "transient-notes.md").is_file()
    assert not list(gradio_dir.rglob("transient-notes.md"))  # the received copy is gone


def test_a_killed_server_s_temporary_folder_is_removed_at_the_next_start(tmp_path_factory):
    data_dir = indexed_data_dir(tmp_path_factory, "stale")
    tmp = data_dir.parent / "tmp"
    tmp.mkdir()
    first = start_app_server(data_dir, env={"TMPDIR": str(tmp)})
    (left,) = tmp.glob("survey-assistant-gradio-*")
    first.process.kill()  # no clean-up runs
    first.process.wait(timeout=30)
    assert left.is_dir()
    second = start_app_server(data_dir, env={"TMPDIR": str(tmp)})
    try:
        folders = list(tmp.glob("survey-assistant-gradio-*"))
        assert not left.exists() and len(folders) == 1
        assert (folders[0] / ".owner-pid").read_text().strip() == str(second.process.pid)
    finally:
        second.stop()
