"""The parent's side of the local model process (``worker.py`` has the protocol).

``ModelProcess`` starts the worker, waits for it within bounds and turns every way it can fail
into one sentence: a crash (its signal, and the likely cause), a kill (often the system out of
memory), a hang (no token within the bound). A dead or hung worker is replaced by a new one, so
the next question works. Every wait on the worker has a bound; none of them can hang the caller.
"""

from __future__ import annotations

import collections
import contextlib
import itertools
import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass

from assistant.errors import BackendError, ModelCrashedError, ModelUnavailableError

WORKER_MODULE = "assistant.local_model.worker"
_FAULTS = {"SIGSEGV", "SIGILL", "SIGBUS", "SIGFPE", "SIGABRT"}
REBUILD_HINT = (
    "if it happens again, the usual cause is a llama.cpp build that uses CPU instructions this "
    "machine cannot run: rebuild it with `make install` (portable flags, no AMX)"
)


@dataclass(frozen=True)
class WorkerConfig:
    """What the worker loads: sent as its first line."""

    model_path: str
    n_ctx: int = 4096
    n_threads: int = 2
    prime_system_prompt: str = ""
    prime_state_dir: str = ""


@dataclass(frozen=True)
class Limits:
    """Bounds of every wait on the worker, in seconds."""

    load_s: float = 120.0  # start, load and prime (the 0.5B loads in ~1 s)
    first_token_s: float = 90.0  # a full 4096-token prompt takes ~40 s on two cores
    token_gap_s: float = 30.0  # between two pieces (normally ~50 ms)
    answer_s: float = 600.0  # a whole answer


class _Died:
    """Put into the queues of waiting requests when the worker's stdout closes."""


def describe_exit(returncode: int | None) -> str:
    """How the worker ended, as a clause: "crashed (SIGSEGV)", "was killed (SIGKILL…)"."""
    if returncode is None:
        return "stopped answering"
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = f"signal {-returncode}"
        if name == "SIGKILL":
            return "was killed (SIGKILL; the system may have run out of memory)"
        if name in _FAULTS:
            return f"crashed ({name})"
        return f"was stopped ({name})"
    return f"exited unexpectedly (exit code {returncode})"


class ModelProcess:
    """One worker process at a time, started on demand and replaced when it dies.

    Thread-safe. Chats are serialised here (one generation at a time, as on one Llama object);
    token counts go to the worker beside a running chat.
    """

    def __init__(
        self,
        config: WorkerConfig,
        limits: Limits | None = None,
        *,
        restart: bool = True,
    ):
        self.config = config
        self.limits = limits or Limits()
        self.restart = restart  # start a new worker as soon as one dies or hangs
        self._lock = threading.Lock()  # guards the fields below
        self._write_lock = threading.Lock()  # one writer on the pipe: lines never interleave
        self._chat_lock = threading.Lock()
        self._proc: subprocess.Popen | None = None
        self._ready: queue.Queue | None = None
        self._info: dict | None = None
        self._pending: dict[int, queue.Queue] = {}
        self._stderr: collections.deque[str] = collections.deque(maxlen=20)
        self._ids = itertools.count(1)
        self.restarts = 0

    # -- lifecycle ----------------------------------------------------------------------------
    def start(self) -> None:
        """Start the worker if none is running; returns at once (the load goes on there)."""
        with self._lock:
            if self._proc is not None and self._proc.poll() is None:
                return
            if self._proc is not None:
                self.restarts += 1
            self._spawn()

    def _spawn(self) -> None:
        # -P: the working directory is not put on sys.path, so a folder named `assistant` where
        # the app was started cannot stand in for the worker.
        proc = subprocess.Popen(
            [sys.executable, "-P", "-m", WORKER_MODULE],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            errors="replace",
            bufsize=1,
        )
        ready: queue.Queue = queue.Queue()
        for orphan in self._pending.values():  # requests to the worker being replaced
            orphan.put(_Died)
        self._proc, self._ready, self._info, self._pending = proc, ready, None, {}
        self._stderr.clear()
        proc.stdin.write(json.dumps(asdict(self.config), ensure_ascii=False) + "\n")
        proc.stdin.flush()
        threading.Thread(
            target=self._read, args=(proc, ready), name="model-process-out", daemon=True
        ).start()
        threading.Thread(
            target=self._read_stderr, args=(proc,), name="model-process-err", daemon=True
        ).start()

    def _read(self, proc: subprocess.Popen, ready: queue.Queue) -> None:
        for line in proc.stdout:
            try:
                message = json.loads(line)
            except ValueError:
                continue
            if "ready" in message or ("error" in message and "id" not in message):
                ready.put(message)
                continue
            with self._lock:
                target = self._pending.get(message.get("id"))
            if target is not None:
                target.put(message)
        # stdout closed: the worker has ended (or is ending); everyone waiting on it is told.
        with self._lock:
            waiting = list(self._pending.values()) if self._proc is proc else []
        ready.put(_Died)
        for target in waiting:
            target.put(_Died)

    def _read_stderr(self, proc: subprocess.Popen) -> None:
        for line in proc.stderr:
            if line.strip():
                self._stderr.append(line.rstrip()[:300])

    def wait_ready(self) -> dict:
        """Start the worker if needed and wait until the model is loaded; what it reported
        (pid, load time, primed tokens, whether the saved prompt state was restored)."""
        self.start()
        with self._lock:
            proc, ready, info = self._proc, self._ready, self._info
        if info is not None:
            return info
        try:
            message = ready.get(timeout=self.limits.load_s)
        except queue.Empty:
            self._kill(proc)
            raise ModelUnavailableError(
                f"The local model did not load within {self.limits.load_s:g} s, so it was "
                "stopped; run `survey-assistant doctor` to check it."
            ) from None
        ready.put(message)  # every other waiter of this worker sees the same outcome
        if message is _Died:
            what = self._exit_clause(proc)
            raise ModelCrashedError(
                f"The local model {what} while loading; {REBUILD_HINT}.", exit=what
            )
        if "error" in message:
            self._kill(proc)
            raise ModelUnavailableError(
                f"The local model file {os.path.basename(self.config.model_path)} could not be "
                f"loaded by llama.cpp ({message['error'].split(':', 1)[0]}); set "
                "ASSISTANT_LLM_MODEL_PATH to another GGUF file."
            )
        with self._lock:
            if self._proc is proc:
                self._info = message["ready"]
        return message["ready"]

    @property
    def pid(self) -> int | None:
        """The running worker's process id (None when none runs)."""
        with self._lock:
            alive = self._proc is not None and self._proc.poll() is None
            return self._proc.pid if alive else None

    @property
    def started(self) -> bool:
        with self._lock:
            return self._proc is not None and self._proc.poll() is None

    def close(self) -> None:
        with self._lock:
            proc, self._proc = self._proc, None
        if proc is not None:
            self._kill(proc)

    def _kill(self, proc: subprocess.Popen | None) -> None:
        if proc is None:
            return
        if proc.poll() is None:
            proc.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=10)

    def _exit_clause(self, proc: subprocess.Popen) -> str:
        try:
            code = proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self._kill(proc)
            code = proc.returncode
        return describe_exit(code)

    def last_stderr(self) -> list[str]:
        """The worker's last lines on stderr (llama.cpp's own messages before a fault)."""
        return list(self._stderr)

    # -- requests -----------------------------------------------------------------------------
    def _request(self, op: str, **fields) -> tuple[subprocess.Popen, int, queue.Queue]:
        self.wait_ready()
        rid = next(self._ids)
        answers: queue.Queue = queue.Queue()
        with self._lock:
            proc = self._proc
            self._pending[rid] = answers
        try:
            line = json.dumps({"id": rid, "op": op, **fields}, ensure_ascii=False) + "\n"
            with self._write_lock:
                proc.stdin.write(line)
                proc.stdin.flush()
        except (OSError, ValueError, AttributeError):
            answers.put(_Died)  # the pipe is closed: the worker has gone
        return proc, rid, answers

    def _done(self, rid: int) -> None:
        with self._lock:
            self._pending.pop(rid, None)

    def count_tokens(self, text: str) -> int:
        return self._count("count", text=text)

    def prompt_tokens(self, messages: list[dict]) -> int:
        """Tokens of a chat prompt as the model's own template renders it."""
        return self._count("prompt_tokens", messages=messages)

    def _count(self, op: str, **fields) -> int:
        # A count takes well under a millisecond: the bound between two pieces is ample.
        bound = self.limits.token_gap_s
        proc, rid, answers = self._request(op, **fields)
        try:
            message = answers.get(timeout=bound)
        except queue.Empty:
            message = None
        finally:
            self._done(rid)
        if message is None:
            self._replace(proc)
            raise ModelCrashedError(self._stall_message(0, bound, float("inf")))
        if message is _Died:
            what = self._exit_clause(proc)
            self._replace(proc)
            raise ModelCrashedError(self._crash_message(what, 0), exit=what)
        if "error" in message:
            raise ModelUnavailableError(
                f"The local model could not count tokens ({message['error']})."
            )
        return int(message["tokens"])

    def chat(self, messages: list[dict], params: dict) -> Iterator[str]:
        """The answer's pieces as the worker generates them. A crash, kill or stall of the worker
        raises ModelCrashedError (after the pieces already given, which are then cut off), and a
        new worker is started for the next question."""
        with self._chat_lock:  # one generation at a time
            proc, rid, answers = self._request("chat", messages=messages, params=params)
            finished = False
            given = 0
            deadline = time.monotonic() + self.limits.answer_s
            try:
                while True:
                    bound = self.limits.first_token_s if given == 0 else self.limits.token_gap_s
                    wait = min(bound, deadline - time.monotonic())
                    try:
                        message = answers.get(timeout=max(wait, 0.0))
                    except queue.Empty:
                        self._replace(proc)
                        raise ModelCrashedError(
                            self._stall_message(given, bound, deadline)
                        ) from None
                    if message is _Died:
                        what = self._exit_clause(proc)
                        self._replace(proc)
                        raise ModelCrashedError(self._crash_message(what, given), exit=what)
                    if "error" in message:
                        finished = True
                        raise BackendError(
                            f"The local model failed ({message['error'][:120]}); try again, or "
                            "choose another backend (ASSISTANT_LLM=extractive)."
                        )
                    if message.get("done"):
                        finished = True
                        return
                    given += 1
                    yield message["delta"]
            finally:
                if not finished and proc.poll() is None and not self._cancel(proc, rid, answers):
                    self._replace(proc)
                self._done(rid)

    def _cancel(self, proc: subprocess.Popen, rid: int, answers: queue.Queue) -> bool:
        """Stop an abandoned chat in the worker; True once it has stopped (within a bound)."""
        try:
            with self._write_lock:
                proc.stdin.write(json.dumps({"id": 0, "op": "cancel", "target": rid}) + "\n")
                proc.stdin.flush()
        except (OSError, ValueError):
            return False
        deadline = time.monotonic() + self.limits.token_gap_s
        while (left := deadline - time.monotonic()) > 0:
            try:
                message = answers.get(timeout=left)
            except queue.Empty:
                return False
            if message is _Died:
                return False
            if message.get("done") or "error" in message:
                return True
        return False

    def _replace(self, proc: subprocess.Popen) -> None:
        """The worker is dead or hung: end it and start a new one (it loads in the background,
        so the next question finds it ready)."""
        self._kill(proc)
        with self._lock:
            current = self._proc is proc
        if current and self.restart:
            self.start()

    @staticmethod
    def _crash_message(what: str, given: int) -> str:
        cut = "in the middle of the answer, which is cut off" if given else "before answering"
        hint = (
            REBUILD_HINT
            if "crashed" in what
            else "if it happens again, run `survey-assistant doctor`"
        )
        return f"The local model {what} {cut}; it has been restarted, so ask again, and {hint}."

    def _stall_message(self, given: int, bound: float, deadline: float) -> str:
        if time.monotonic() >= deadline:
            what = f"did not finish the answer within {self.limits.answer_s:g} s"
        elif given:
            what = f"stopped for over {bound:g} s in the middle of the answer, which is cut off"
        else:
            what = f"gave no answer within {bound:g} s"
        return (
            f"The local model {what}, so it was stopped and restarted; ask again, or choose "
            "another backend (ASSISTANT_LLM=extractive)."
        )
