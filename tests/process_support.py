"""Servers the tests start as real processes on loopback: a free port, and a stop that always
ends the process (terminate, then kill)."""

from __future__ import annotations

import socket
import subprocess


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def stop_process(process: subprocess.Popen) -> int:
    """Terminate ``process`` (kill it if it does not stop within 20 s); its exit code."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=20)
    return process.returncode


def model_worker_of(pid: int, timeout: float = 120):
    """The local model's worker process among ``pid``'s descendants (a psutil.Process), waiting
    for it to start."""
    import time

    import psutil

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for child in psutil.Process(pid).children(recursive=True):
            try:
                if "assistant.local_model.worker" in " ".join(child.cmdline()):
                    return child
            except psutil.Error:
                continue
        time.sleep(0.05)
    raise AssertionError("no model worker process was started")
