"""Support for the ``llm`` tests: real local GGUF models, a real index, a real OpenAI-compatible
server (``llama_cpp.server``) on loopback, and small loopback servers that fail the way real ones
do (reliability.md item 12).

Loaded by the test modules with ``pytest_plugins = ["llm_support"]``.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest
from process_support import free_port, stop_process

from assistant.components import Components
from assistant.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
CORPUS_DIR = ROOT / "corpus"
ENV_VARS = ("ASSISTANT_LLM", "ASSISTANT_LLM_MODEL_PATH", "OPENAI_API_KEY", "OPENAI_BASE_URL")


# -- models and index ------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def llm_embeddings(request):
    """The packaged default embedder, loaded once: conftest's session ``embeddings`` when there is
    one."""
    try:
        return request.getfixturevalue("embeddings")
    except pytest.FixtureLookupError:
        from index.embeddings import E5Embeddings

        model = E5Embeddings(threads=2)
        model.load()
        return model


@pytest.fixture
def clean_env(monkeypatch):
    """No backend configuration leaks in from the developer's shell."""
    for name in ENV_VARS:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def make_components(data_dir: Path, embeddings, **overrides) -> Components:
    """Components over ``data_dir`` (settings from the environment plus ``overrides``) that reuse
    the loaded embedder."""
    return Components(Settings(data_dir=data_dir, **overrides), embeddings=embeddings)


@pytest.fixture(scope="session")
def llm_data_dir(tmp_path_factory, llm_embeddings) -> Path:
    """A data directory holding the survey's index (real Chroma and keyword index)."""
    data_dir = tmp_path_factory.mktemp("llm-data")
    report = (
        make_components(data_dir, llm_embeddings, llm="extractive")
        .indexer()
        .index_paths([CORPUS_DIR])
    )
    assert report.documents == 1 and report.chunks > 20 and not report.errors
    return data_dir


@pytest.fixture(scope="session")
def smollm_path() -> Path:
    from assistant.backends.packaged_models import packaged_smollm_path

    return packaged_smollm_path()


# -- instrumenting llama.cpp ------------------------------------------------------------------------
class GenerationRecorder:
    """Wraps one local model's process: records every generation's messages, parameters and its
    (first piece, end) interval. A chat waits for the model before its first piece arrives, so
    two generations that ran at once would show as overlapping intervals."""

    def __init__(self, process):
        self.process = process
        self.intervals: list[tuple[float, float]] = []
        self.messages: list[list[dict]] = []
        self.kwargs: list[dict] = []
        self._lock = threading.Lock()
        original = process.chat

        def recorded(messages, params):
            started = None
            with self._lock:
                self.messages.append(messages)
                self.kwargs.append(dict(params))
            try:
                for piece in original(messages, params):
                    started = started or time.perf_counter()
                    yield piece
            finally:
                ended = time.perf_counter()
                with self._lock:
                    self.intervals.append((started or ended, ended))

        process.chat = recorded

    def prompt_tokens(self, messages: list[dict]) -> int:
        """Tokens of the prompt exactly as llama.cpp sees it: the GGUF's own chat template,
        rendered, then tokenized by the model (in its process)."""
        return self.process.prompt_tokens(messages)


def record_generations(backend) -> GenerationRecorder:
    return GenerationRecorder(backend.model.process)


# -- a real OpenAI-compatible server ------------------------------------------------------------------


def get_json(url: str, timeout: float = 2.0):
    with urllib.request.urlopen(url, timeout=timeout) as response:  # loopback only
        return json.loads(response.read())


class LlamaServer:
    """``python -m llama_cpp.server`` on loopback, started and stopped by the test."""

    def __init__(self, model: Path, *, n_ctx: int = 2048):
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}/v1"
        self.log = open(os.devnull, "wb")  # noqa: SIM115 (closed in stop)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "llama_cpp.server", "--model", str(model), "--host",
             "127.0.0.1", "--port", str(self.port), "--n_ctx", str(n_ctx), "--n_threads", "2"],
            stdout=self.log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        self.model_id = self._wait_ready(timeout=180)

    def _wait_ready(self, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"llama_cpp.server exited with {self.process.returncode}")
            try:
                return get_json(f"{self.base_url}/models")["data"][0]["id"]
            except OSError:
                time.sleep(0.5)
        self.stop()
        raise RuntimeError("llama_cpp.server did not start in time")

    def stop(self) -> None:
        stop_process(self.process)
        self.log.close()


# -- servers that fail -----------------------------------------------------------------------------
SSE_CHUNK = {
    "id": "chatcmpl-1",
    "object": "chat.completion.chunk",
    "created": 0,
    "model": "fake",
    "choices": [{"index": 0, "delta": {"role": "assistant", "content": "深度学习"}}],
}


class FaultServer:
    """A loopback HTTP server that fails in one way:

    - ``silent``: accepts the connection, reads the request, never answers;
    - ``stall``: sends the headers and one SSE chunk of a streamed answer, then hangs;
    - ``keepalive``: sends the headers, then an SSE comment every ``keepalive_s``, never a token;
    - ``keepalive-after-a-token``: one SSE chunk of the answer, then only comments;
    - ``429`` / ``500``: an error status with a JSON body (``429`` asks to retry in a minute);
    - ``invalid-json``: 200 with a body that is not JSON;
    - ``invalid-sse``: 200, a stream whose event is not JSON.
    """

    def __init__(self, mode: str, *, keepalive_s: float = 1.0):
        self.mode = mode
        self.keepalive_s = keepalive_s
        self.requests = 0
        self._stop = threading.Event()
        self._sock = socket.socket()
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(16)
        self._sock.settimeout(0.2)
        self.port = self._sock.getsockname()[1]
        self.base_url = f"http://127.0.0.1:{self.port}/v1"
        self._threads = [threading.Thread(target=self._accept, daemon=True)]
        self._threads[0].start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            thread = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            self._threads.append(thread)
            thread.start()

    @staticmethod
    def _read_request(conn: socket.socket) -> None:
        conn.settimeout(5)
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = conn.recv(65536)
            if not chunk:
                return
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":", 1)[1])
        while len(body) < length:
            chunk = conn.recv(65536)
            if not chunk:
                return
            body += chunk

    @staticmethod
    def _response(status: str, content_type: str, body: bytes, extra: str = "") -> bytes:
        head = (
            f"HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\n"
            f"Content-Length: {len(body)}\r\n{extra}Connection: close\r\n\r\n"
        )
        return head.encode() + body

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            try:
                self._read_request(conn)
                self.requests += 1
                error = json.dumps({"error": {"message": "fault", "type": "server_error"}}).encode()
                if self.mode == "silent":
                    self._stop.wait()
                elif self.mode == "stall":
                    conn.sendall(
                        b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
                        b"Cache-Control: no-cache\r\nConnection: keep-alive\r\n\r\n"
                        + f"data: {json.dumps(SSE_CHUNK)}\n\n".encode()
                    )
                    self._stop.wait()
                elif self.mode.startswith("keepalive"):
                    first = f"data: {json.dumps(SSE_CHUNK)}\n\n" if "token" in self.mode else ""
                    conn.sendall(
                        b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
                        b"Cache-Control: no-cache\r\nConnection: keep-alive\r\n\r\n"
                        + first.encode()
                    )
                    while not self._stop.wait(self.keepalive_s):
                        conn.sendall(b": keep-alive\n\n")
                elif self.mode == "429":
                    conn.sendall(
                        self._response(
                            "429 Too Many Requests",
                            "application/json",
                            error,
                            "Retry-After: 60\r\n",
                        )
                    )
                elif self.mode == "500":
                    conn.sendall(
                        self._response("500 Internal Server Error", "application/json", error)
                    )
                elif self.mode == "invalid-json":
                    conn.sendall(self._response("200 OK", "application/json", b"{not json"))
                elif self.mode == "invalid-sse":
                    conn.sendall(
                        self._response("200 OK", "text/event-stream", b"data: {not json\n\n")
                    )
            except OSError:
                pass

    def close(self) -> None:
        self._stop.set()
        self._sock.close()
        for thread in self._threads:
            thread.join(timeout=5)
