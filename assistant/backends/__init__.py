"""Answering backends, chosen by ``ASSISTANT_LLM`` (contracts.md).

- ``extractive``: no model; the passages' own sentences, cited. Always available.
- ``llamacpp``: a local GGUF through llama-cpp-python (default: the packaged Qwen2.5 0.5B).
- ``openai``: any OpenAI-compatible endpoint, with bounded timeouts and retries.
- ``fake``: a deterministic stand-in chat model that quotes the first passage (for tests; never
  chosen unless asked for).

Unset: ``llamacpp`` when llama-cpp-python and a model (``ASSISTANT_LLM_MODEL_PATH``, complete, or
the packaged Qwen parts) are installed, else ``extractive``. A backend asked for by name that
cannot run raises ModelUnavailableError when it is built, before any retrieval.
"""

from __future__ import annotations

import importlib.util

from assistant.errors import ModelUnavailableError
from assistant.settings import LLMKind, Settings

from .base import Backend, ChatBackend, ExtractiveBackend


def llamacpp_installed(settings: Settings) -> bool:
    """llama-cpp-python and a model are there: the configured GGUF file, complete (a quick header
    check, cached), or else the packaged Qwen parts."""
    from .packaged_models import qwen_parts_installed

    if importlib.util.find_spec("llama_cpp") is None:
        return False
    if settings.llm_model_path is None:
        return qwen_parts_installed()
    from .gguf_check import check_gguf

    try:
        check_gguf(settings.llm_model_path)
    except ModelUnavailableError:
        return False  # `doctor` says why; asking for 'llamacpp' explicitly gives the error
    return True


def openai_configured() -> bool:
    return bool(Settings.openai_api_key() or Settings.openai_base_url())


def available_backends(settings: Settings) -> list[LLMKind]:
    """Backends that can run here, best offline one first."""
    kinds: list[LLMKind] = []
    if llamacpp_installed(settings):
        kinds.append("llamacpp")
    kinds.append("extractive")
    if openai_configured():
        kinds.append("openai")
    return kinds


def default_backend(settings: Settings) -> LLMKind:
    return settings.llm or available_backends(settings)[0]


def local_model_limits(settings: Settings):
    from assistant.local_model.process import Limits

    return Limits(
        load_s=settings.llm_load_timeout_s,
        first_token_s=settings.llm_first_token_timeout_s,
        token_gap_s=settings.llm_token_gap_timeout_s,
        answer_s=settings.llm_answer_timeout_s,
    )


def chat_backend(
    settings: Settings, kind: LLMKind, model, count_tokens=None, *, preload=None
) -> ChatBackend:
    """The chat backend of ``kind`` around ``model``, with that kind's window: the local model's
    own context and excerpts of passages (its prompt is read on two cores), or a server's larger
    window and whole passages."""
    if kind == "llamacpp":
        window, passage_tokens = settings.llm_context_tokens, settings.llm_passage_tokens
    else:
        window, passage_tokens = settings.openai_context_tokens, 0
    return ChatBackend(
        kind,
        model,
        count_tokens,
        settings,
        window=window,
        passage_tokens=passage_tokens,
        preload=preload,
    )


def build_backend(settings: Settings, kind: LLMKind, *, chat_model=None) -> Backend:
    """Backend ``kind``; ``chat_model`` (a LangChain chat model) replaces the one the settings
    would build for a model backend."""
    if kind == "extractive":
        return ExtractiveBackend()
    if chat_model is not None:
        return chat_backend(settings, kind, chat_model)
    if kind == "llamacpp":
        from .llamacpp_chat import LlamaCppChatModel, check_gguf
        from .packaged_models import packaged_qwen_path

        path = settings.llm_model_path or packaged_qwen_path(settings.data_dir)
        check_gguf(path)  # a missing or broken file is reported now, not mid-answer
        model = LlamaCppChatModel(
            model_path=str(path),
            n_ctx=settings.llm_context_tokens,
            n_threads=settings.llm_threads,
            max_tokens=settings.max_answer_tokens,
            temperature=settings.temperature,
            prime_system_prompt=ChatBackend.system_prompt("zh"),
            prime_state_dir=str(settings.data_dir / "models" / "prompt_state"),
            limits=local_model_limits(settings),
        )
        return chat_backend(
            settings, "llamacpp", model, model.count_tokens, preload=model.load_in_background
        )
    if kind == "openai":
        from .openai_chat import build_openai_chat

        return chat_backend(settings, "openai", build_openai_chat(settings))
    if kind == "fake":
        from .quoting_chat import QuotingChatModel

        return chat_backend(settings, "fake", QuotingChatModel())
    raise ValueError(kind)
