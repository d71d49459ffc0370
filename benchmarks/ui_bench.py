"""Web app under load (issue: web app): 8 gradio_client sessions asking at once, p50/p95 of
each `ask` round trip, on a real `survey-assistant serve` process with the extractive backend."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time

import httpx

from .common import fresh_dir, percentile, row

QUESTIONS = [
    "什么是深度学习？",
    "它的基本算法有哪些？",
    "AI大模型的挑战是什么？",
    "PyTorch是谁开发的？",
]
SESSIONS = 8


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def main() -> None:
    from gradio_client import Client

    print("Web app (8 sessions at once, extractive backend)")
    data_dir = fresh_dir("bench-ui-") / "data"
    env = {**os.environ, "ASSISTANT_DATA_DIR": str(data_dir), "ASSISTANT_LLM": "extractive"}
    subprocess.run(
        [sys.executable, "-m", "assistant", "index"], env=env, check=True, capture_output=True
    )
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "assistant", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            try:
                if httpx.get(url, timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.5)
        latencies: list[float] = []
        lock = threading.Lock()

        def session() -> None:
            client = Client(url, verbose=False)
            for question in QUESTIONS:
                started = time.perf_counter()
                client.predict(question, "extractive", 5, 0.2, api_name="/ask")
                with lock:
                    latencies.append((time.perf_counter() - started) * 1000)

        Client(url, verbose=False).predict("AI大模型", 1, api_name="/retrieve")  # warm-up
        threads = [threading.Thread(target=session) for _ in range(SESSIONS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=600)
        row(
            f"{SESSIONS} sessions x {len(QUESTIONS)} asks: p50 / p95",
            f"{percentile(latencies, 50):.0f} / {percentile(latencies, 95):.0f} ms",
            f"{len(latencies)} asks",
        )
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
