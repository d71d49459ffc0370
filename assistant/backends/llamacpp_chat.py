"""A LangChain chat model over a local GGUF, run by llama.cpp in a process of its own.

The model runs in a worker process (``assistant.local_model``): a native crash, hang or
out-of-memory kill there becomes one clear error here, and the next question gets a new worker.
One model serves one generation at a time (models.md), so concurrent chats queue instead of
crashing. The file is checked (present, GGUF, complete) before llama.cpp opens it.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from pydantic import ConfigDict, PrivateAttr

from assistant.local_model.process import Limits, ModelProcess, WorkerConfig

from .gguf_check import GGUF_MAGIC, check_gguf

_ROLES = {"system": "system", "human": "user", "ai": "assistant"}

__all__ = ["GGUF_MAGIC", "LlamaCppChatModel", "check_gguf"]


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
    limits: Limits = Limits()
    _process: ModelProcess | None = PrivateAttr(default=None)
    _create_lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)

    @property
    def _llm_type(self) -> str:
        return "llamacpp"

    @property
    def process(self) -> ModelProcess:
        """The worker process behind this model (started on first use)."""
        with self._create_lock:
            if self._process is None:
                check_gguf(Path(self.model_path))
                config = WorkerConfig(
                    model_path=self.model_path,
                    n_ctx=self.n_ctx,
                    n_threads=self.n_threads,
                    prime_system_prompt=self.prime_system_prompt,
                    prime_state_dir=self.prime_state_dir,
                )
                self._process = ModelProcess(config, self.limits)
                # The worker ends with the last reference to this model (an Assistant dropped,
                # a demo model replaced), not only when the whole process exits.
                weakref.finalize(self, self._process.close)
            return self._process

    def load(self) -> dict:
        """Load (and prime) the model now; what the worker reported about the load."""
        return self.process.wait_ready()

    def load_in_background(self) -> None:
        """Start the worker, so that the model loads while the question is retrieved (on the
        other core); whoever needs the model then waits for the rest. A failure is reported to
        that caller."""
        self.process.start()

    @property
    def loading_or_loaded(self) -> bool:
        return self._process is not None and self._process.started

    def count_tokens(self, text: str) -> int:
        return self.process.count_tokens(text)

    def close(self) -> None:
        if self._process is not None:
            self._process.close()

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
        params = self._params(stop, kwargs)
        params.pop("n")
        for delta in self.process.chat(self._messages(messages), params):
            chunk = ChatGenerationChunk(message=AIMessageChunk(content=delta))
            if run_manager:
                run_manager.on_llm_new_token(delta, chunk=chunk)
            yield chunk
