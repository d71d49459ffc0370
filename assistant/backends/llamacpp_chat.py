"""A LangChain chat model over llama-cpp-python: a local GGUF, streamed, one generation at a time.

One ``Llama`` object cannot serve two requests at once (models.md), so every generation holds the
model's lock; concurrent chats queue instead of crashing. The file is checked (present, GGUF,
complete) before llama.cpp opens it.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from pydantic import ConfigDict, PrivateAttr

from assistant.errors import ModelUnavailableError

from .gguf_check import GGUF_MAGIC, check_gguf

_ROLES = {"system": "system", "human": "user", "ai": "assistant"}

__all__ = ["GGUF_MAGIC", "LlamaCppChatModel", "check_gguf", "load_llama"]


def load_llama(path: Path, *, n_ctx: int, n_threads: int):
    check_gguf(path)
    try:
        from llama_cpp import Llama
    except ImportError as exc:
        raise ModelUnavailableError(
            "llama-cpp-python is not installed; install the local extra with `pip install '.[local]'`."
        ) from exc
    try:
        return Llama(
            model_path=str(path), n_ctx=n_ctx, n_threads=n_threads, n_batch=512, verbose=False
        )
    except Exception as exc:  # llama.cpp reports a bad file as a generic error
        raise ModelUnavailableError(
            f"The local model file {path.name} could not be loaded by llama.cpp "
            f"({type(exc).__name__}); set ASSISTANT_LLM_MODEL_PATH to another GGUF file."
        ) from None


def prime(llama, system_prompt: str, *, saved: Path | None = None) -> None:
    """Process the system prompt into the KV cache (one token generated, then discarded); with
    ``saved`` (a ``prompt_state.state_file``), restore it from there when it was saved before,
    and save it there otherwise."""
    from .prompt_state import restore_state, save_state

    if saved is not None and restore_state(llama, saved):
        return
    messages = [{"role": "system", "content": system_prompt}, {"role": "user", "content": "你好"}]
    llama.create_chat_completion(messages=messages, max_tokens=1, temperature=0.0)
    if saved is not None:
        save_state(llama, saved)


class LlamaCppChatModel(BaseChatModel):
    model_config = ConfigDict(arbitrary_types_allowed=True)

    model_path: str
    n_ctx: int = 4096
    n_threads: int = 2
    max_tokens: int = 384
    temperature: float = 0.2
    # Evaluated once at load: llama.cpp reuses the KV cache of a shared prompt prefix, so the
    # first question's system prompt is already processed (first token ~1 s instead of ~2 s).
    prime_system_prompt: str = ""
    # Where the primed state is kept between processes (prompt_state.py); empty: not kept.
    prime_state_dir: str = ""
    _llama: Any = PrivateAttr(default=None)
    # Loading and generating take separate locks: counting tokens (the prompt budget of the next
    # chat) reads only the vocabulary and must not wait for another chat's whole generation.
    _load_lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)
    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)

    @property
    def _llm_type(self) -> str:
        return "llamacpp"

    def llama(self):
        if self._llama is not None:
            return self._llama
        with self._load_lock:
            if self._llama is None:
                llama = load_llama(
                    Path(self.model_path), n_ctx=self.n_ctx, n_threads=self.n_threads
                )
                if self.prime_system_prompt:
                    prime(llama, self.prime_system_prompt, saved=self._saved_state())
                self._llama = llama
            return self._llama

    def _saved_state(self) -> Path | None:
        if not self.prime_state_dir:
            return None
        from .prompt_state import state_file

        return state_file(
            Path(self.prime_state_dir), Path(self.model_path), self.n_ctx, self.prime_system_prompt
        )

    def load_in_background(self) -> None:
        """Start loading (and priming) the model on a thread, so that it overlaps retrieval;
        whoever needs the model then waits for the rest. An error is left for that caller: its
        own ``llama()`` call tries again and raises it."""
        if self._llama is not None or self._load_lock.locked():
            return

        def load() -> None:
            with contextlib.suppress(Exception):  # the caller's own attempt reports it
                self.llama()

        # Not a daemon: a process that ends early (an abstained question) waits for the load
        # to finish instead of tearing llama.cpp down mid-load.
        threading.Thread(target=load, name="llama-load").start()

    def count_tokens(self, text: str) -> int:
        return len(self.llama().tokenize(text.encode("utf-8"), add_bos=False, special=False))

    def _messages(self, messages: list[BaseMessage]) -> list[dict]:
        return [{"role": _ROLES.get(m.type, "user"), "content": str(m.content)} for m in messages]

    def _params(self, stop: list[str] | None, kwargs: dict) -> dict:
        return {
            "max_tokens": kwargs.get("max_tokens", self.max_tokens),
            "temperature": kwargs.get("temperature", self.temperature),
            "stop": stop or kwargs.get("stop"),
            "n": kwargs.get("n", 1),
            # Small models loop on their context without it.
            "repeat_penalty": kwargs.get("repeat_penalty", 1.1),
        }

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        text = "".join(
            chunk.message.content for chunk in self._stream(messages, stop, run_manager, **kwargs)
        )
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=text))])

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        llama = self.llama()
        params = self._params(stop, kwargs)
        params.pop("n")
        with self._lock:  # one generation at a time on one model
            for part in llama.create_chat_completion(
                messages=self._messages(messages), stream=True, **params
            ):
                delta = part["choices"][0].get("delta", {}).get("content")
                if delta:
                    chunk = ChatGenerationChunk(message=AIMessageChunk(content=delta))
                    if run_manager:
                        run_manager.on_llm_new_token(delta, chunk=chunk)
                    yield chunk
