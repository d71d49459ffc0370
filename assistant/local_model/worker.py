"""The local model's own process: ``python -m assistant.local_model.worker``.

llama.cpp runs here and nowhere else. A native fault (a build that uses CPU instructions the
machine cannot run crashes with SIGSEGV or SIGILL on the first decode), a hang or an
out-of-memory kill ends this process only; the parent (``process.py``) reports it as one
sentence and starts a new one.

The protocol is one JSON object per line. The first line on stdin is the configuration (see
``ModelProcess._config``); the worker loads the model, primes the system prompt, and answers
``{"ready": {...}}``, or ``{"error": "..."}`` and exits. Then requests, each with an ``id``:

- ``{"op": "chat", "messages": [...], "params": {...}}``: ``{"delta": "..."}`` for each piece,
  then ``{"done": true}``, or ``{"error": "..."}``;
- ``{"op": "count", "text": "..."}`` / ``{"op": "prompt_tokens", "messages": [...]}``:
  ``{"tokens": n}`` (the second renders the GGUF's own chat template, as a chat would);
- ``{"op": "cancel", "target": id}``: that chat stops at its next piece and answers ``done``.

Counts are answered on the thread that reads stdin, beside a running chat: llama.cpp's tokenizer
only reads the vocabulary, and the next chat's prompt budget must not wait for a whole answer.
Chats run one at a time on the main thread, since one Llama object serves one request at a time.
When stdin closes (the parent has gone, however it ended) the worker exits at once.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import sys
import threading
import time
from pathlib import Path


def _prime(llama, system_prompt: str, saved: Path | None) -> bool:
    """Process the system prompt into the KV cache; restored from ``saved`` when it was saved
    before (True), else computed (one token generated, then discarded) and saved there."""
    from .prompt_state import restore_state, save_state

    if saved is not None and restore_state(llama, saved):
        return True
    messages = [{"role": "system", "content": system_prompt}, {"role": "user", "content": "你好"}]
    llama.create_chat_completion(messages=messages, max_tokens=1, temperature=0.0)
    if saved is not None:
        save_state(llama, saved)
    return False


def load(config: dict):
    """The Llama object and what the parent is told about it."""
    import llama_cpp

    from .prompt_state import state_file

    started = time.perf_counter()
    path = Path(config["model_path"])
    llama = llama_cpp.Llama(
        model_path=str(path),
        n_ctx=int(config["n_ctx"]),
        n_threads=int(config["n_threads"]),
        n_batch=512,
        verbose=False,
    )
    restored = False
    prompt = config.get("prime_system_prompt") or ""
    if prompt:
        state_dir = config.get("prime_state_dir") or ""
        saved = state_file(Path(state_dir), path, llama.n_ctx(), prompt) if state_dir else None
        restored = _prime(llama, prompt, saved)
    info = {
        "pid": os.getpid(),
        "llama_cpp": llama_cpp.__version__,
        "load_s": round(time.perf_counter() - started, 3),
        "primed_tokens": llama.n_tokens,
        "restored": restored,
    }
    return llama, info


def prompt_tokens(llama, messages: list[dict]) -> int:
    """Tokens of ``messages`` as a chat sends them: the GGUF's template, rendered, tokenized the
    way llama-cpp-python tokenizes a rendered template (no extra BOS, special tokens parsed)."""
    from llama_cpp.llama_chat_format import Jinja2ChatFormatter

    template = llama.metadata["tokenizer.chat_template"]
    eos = llama.detokenize([llama.token_eos()], special=True).decode("utf-8", "replace")
    bos = llama.detokenize([llama.token_bos()], special=True).decode("utf-8", "replace")
    prompt = Jinja2ChatFormatter(template, eos_token=eos, bos_token=bos)(messages=messages)
    return len(llama.tokenize(prompt.prompt.encode("utf-8"), add_bos=False, special=True))


class Worker:
    def __init__(self, llama, out):
        self.llama = llama
        self._out = out
        self._write = threading.Lock()
        self._chats: queue.Queue = queue.Queue()
        self._cancelled: set = set()

    def send(self, message: dict) -> None:
        line = json.dumps(message, ensure_ascii=False) + "\n"
        with self._write:
            self._out.write(line)
            self._out.flush()

    def read_requests(self, lines) -> None:
        for line in lines:
            try:
                request = json.loads(line)
            except ValueError:
                continue
            op = request.get("op")
            if op == "chat":
                self._chats.put(request)
            elif op == "cancel":
                self._cancelled.add(request.get("target"))
            elif op in ("count", "prompt_tokens"):
                self._count(request)
        os._exit(0)  # the parent closed stdin: it has gone, and nobody reads the answers

    def _count(self, request: dict) -> None:
        try:
            if request["op"] == "count":
                text = request["text"].encode("utf-8")
                tokens = len(self.llama.tokenize(text, add_bos=False, special=False))
            else:
                tokens = prompt_tokens(self.llama, request["messages"])
            self.send({"id": request["id"], "tokens": tokens})
        except Exception as exc:
            self.send({"id": request.get("id"), "error": f"{type(exc).__name__}: {exc}"})

    def serve_chats(self) -> None:
        while True:
            self._chat(self._chats.get())

    def _chat(self, request: dict) -> None:
        rid = request["id"]
        try:
            stream = self.llama.create_chat_completion(
                messages=request["messages"], stream=True, **request["params"]
            )
            for part in stream:
                if rid in self._cancelled:
                    stream.close()
                    break
                delta = part["choices"][0].get("delta", {}).get("content")
                if delta:
                    self.send({"id": rid, "delta": delta})
        except Exception as exc:
            self.send({"id": rid, "error": f"{type(exc).__name__}: {exc}"})
            return
        finally:
            self._cancelled.discard(rid)
        self.send({"id": rid, "done": True})


def main() -> None:
    # The protocol gets its own copy of stdout; fd 1 itself then points at stderr, so whatever
    # llama.cpp prints natively can never corrupt a message.
    out = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C in a terminal is the parent's to handle
    stdin = open(sys.stdin.fileno(), encoding="utf-8", closefd=False)  # noqa: SIM115
    first = stdin.readline()
    if not first:
        return
    try:
        llama, info = load(json.loads(first))
    except Exception as exc:
        out.write(json.dumps({"error": f"{type(exc).__name__}: {exc}"}) + "\n")
        out.flush()
        return
    worker = Worker(llama, out)
    worker.send({"ready": info})
    threading.Thread(target=worker.read_requests, args=(stdin,), daemon=True).start()
    worker.serve_chats()


if __name__ == "__main__":
    main()
