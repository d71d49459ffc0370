"""Answering backends, chosen by ``ASSISTANT_LLM`` (contracts.md).

- ``extractive``: no model; the passages' own sentences, cited. Always available.
- ``llamacpp``: a local GGUF through llama-cpp-python (default: the packaged Qwen2.5 0.5B).
- ``openai``: any OpenAI-compatible endpoint, with bounded timeouts and retries.

Unset: ``llamacpp`` when llama-cpp-python and the packaged model are installed, else ``extractive``.
"""

from __future__ import annotations

import importlib.util

from assistant.settings import LLMKind, Settings

from .base import Backend, ChatBackend, ExtractiveBackend


def llamacpp_installed(settings: Settings) -> bool:
    from .packaged_models import qwen_parts_installed

    if importlib.util.find_spec("llama_cpp") is None:
        return False
    return settings.llm_model_path is not None or qwen_parts_installed()


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


def build_backend(settings: Settings, kind: LLMKind) -> Backend:
    if kind == "extractive":
        return ExtractiveBackend()
    if kind == "llamacpp":
        from .llamacpp_chat import LlamaCppChatModel
        from .packaged_models import packaged_qwen_path

        path = settings.llm_model_path or packaged_qwen_path(settings.data_dir)
        model = LlamaCppChatModel(
            model_path=str(path),
            n_ctx=settings.llm_context_tokens,
            n_threads=settings.llm_threads,
            max_tokens=settings.max_answer_tokens,
            temperature=settings.temperature,
        )
        return ChatBackend("llamacpp", model, model.count_tokens, settings)
    if kind == "openai":
        from .openai_chat import build_openai_chat

        model = build_openai_chat(settings)
        return ChatBackend("openai", model, None, settings)
    raise ValueError(kind)
