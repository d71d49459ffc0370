"""GPT demo: text generation with the survey's parameters (prompt, max_tokens, temperature, n, stop).

The survey calls ``openai.Completion.create(prompt=…, max_tokens=150, n=1, stop=None,
temperature=0.7)``. Here the same parameters drive a chat model: the local GGUF through
``LlamaCppChatModel`` (the packaged Qwen by default) or any OpenAI-compatible endpoint. The ``n``
completions are generated one after another: one llama.cpp model serves one request at a time.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Literal

from assistant.errors import AssistantError, BackendError, UsageError
from assistant.settings import Settings

Engine = Literal["local", "openai"]
ENGINE_LABELS: dict[str, str] = {
    "local": "本地模型 Local GGUF (llama.cpp)",
    "openai": "OpenAI 兼容接口 OpenAI-compatible API",
}
MAX_PROMPT_CHARS = 4000
MAX_TOKENS_LIMIT = 1024
MAX_N = 4
MAX_STOPS = 4
NOT_AVAILABLE = (
    "GPT 演示不可用：没有本地模型，也没有配置 API。 The GPT demo needs a local model "
    "(install the local extra: `pip install '.[local]'`) or an OpenAI-compatible endpoint "
    "(set OPENAI_API_KEY, and OPENAI_BASE_URL for another server), then restart."
)


@dataclass(frozen=True)
class GenerationRequest:
    """The survey's Completion parameters, checked."""

    prompt: str
    max_tokens: int = 150
    temperature: float = 0.7
    n: int = 1
    stop: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.prompt or not self.prompt.strip():
            raise UsageError("The prompt is empty; type the start of a text to continue.")
        if len(self.prompt) > MAX_PROMPT_CHARS:
            raise UsageError(
                f"The prompt is {len(self.prompt)} characters long, over the limit of "
                f"{MAX_PROMPT_CHARS}; shorten it."
            )
        if not 1 <= int(self.max_tokens) <= MAX_TOKENS_LIMIT:
            raise UsageError(f"max_tokens must be between 1 and {MAX_TOKENS_LIMIT}.")
        if not 0.0 <= float(self.temperature) <= 2.0:
            raise UsageError("temperature must be between 0 and 2.")
        if not 1 <= int(self.n) <= MAX_N:
            raise UsageError(f"n must be between 1 and {MAX_N}.")
        if len(self.stop) > MAX_STOPS:
            raise UsageError(f"At most {MAX_STOPS} stop sequences are accepted.")


def parse_stop(text: str | None) -> tuple[str, ...]:
    """Stop sequences typed one per line; ``\\n`` stands for a line break."""
    if not text:
        return ()
    stops = []
    for line in text.splitlines():
        value = line.replace("\\n", "\n").replace("\\t", "\t")
        if value.strip(" "):
            stops.append(value)
    return tuple(dict.fromkeys(stops))


def available_engines(settings: Settings) -> list[Engine]:
    from assistant.backends import llamacpp_installed, openai_configured

    engines: list[Engine] = []
    if llamacpp_installed(settings):
        engines.append("local")
    if openai_configured():
        engines.append("openai")
    return engines


def stream_completions(model, request: GenerationRequest) -> Iterator[list[str]]:
    """The ``n`` completions as they grow; each yield is the list of texts so far."""
    from langchain_core.messages import HumanMessage

    texts: list[str] = []
    options = {"max_tokens": int(request.max_tokens), "temperature": float(request.temperature)}
    stop = list(request.stop) or None
    for _ in range(int(request.n)):
        texts.append("")
        try:
            for chunk in model.stream([HumanMessage(request.prompt)], stop=stop, **options):
                piece = chunk.content if isinstance(chunk.content, str) else ""
                if piece:
                    texts[-1] += piece
                    yield list(texts)
        except AssistantError:
            raise
        except Exception as exc:
            raise generation_error(exc) from exc
        yield list(texts)


def generation_error(exc: Exception) -> BackendError:
    kind = type(exc).__name__
    if "Timeout" in kind:
        reason = "did not answer in time"
    elif "Connection" in kind:
        reason = "cannot be reached"
    elif "Authentication" in kind:
        reason = "rejected the API key (check OPENAI_API_KEY)"
    elif "NotFound" in kind:
        reason = "does not know this model (check the model name)"
    else:
        reason = f"failed ({kind})"
    return BackendError(f"The text generation model {reason}; check its configuration and retry.")


class GPTDemo:
    """Holds the demo's models (built on first use, shared by every session)."""

    def __init__(self, settings: Settings, *, local_model: Callable[[], object] | None = None):
        self.settings = settings
        self._local_model = local_model
        self._models: dict[tuple[str, str], object] = {}
        self._lock = threading.Lock()

    def engines(self) -> list[Engine]:
        return available_engines(self.settings)

    def model(self, engine: Engine, model_name: str = ""):
        if engine not in self.engines():
            raise UsageError(NOT_AVAILABLE)
        key = (engine, model_name.strip() if engine == "openai" else "")
        with self._lock:
            if key not in self._models:
                self._models[key] = self._build(engine, key[1])
            return self._models[key]

    def stream(
        self, engine: Engine, request: GenerationRequest, model_name: str = ""
    ) -> Iterator[list[str]]:
        return stream_completions(self.model(engine, model_name), request)

    def _build(self, engine: Engine, model_name: str):
        if engine == "local":
            if self._local_model is not None:
                return self._local_model()
            from assistant.backends import local_model_limits
            from assistant.backends.llamacpp_chat import LlamaCppChatModel
            from assistant.backends.packaged_models import packaged_qwen_path

            path = self.settings.llm_model_path or packaged_qwen_path(self.settings.data_dir)
            return LlamaCppChatModel(
                model_path=str(path),
                n_ctx=self.settings.llm_context_tokens,
                n_threads=self.settings.llm_threads,
                limits=local_model_limits(self.settings),
            )
        from assistant.backends.openai_chat import build_openai_chat

        settings = self.settings
        if model_name:
            settings = settings.model_copy(update={"openai_model": model_name})
        return build_openai_chat(settings, streaming=True)
