"""The composition root: builds the embedder, knowledge bases, indexer, retriever and chain from
one Settings object. The CLI, the Python API and the web app all receive what it built.

Parts can also be handed in instead of built: an embedder already loaded (``embeddings=``, so
that components for other settings share it), or a LangChain chat model for a backend
(``chat_models={"openai": model}``): any ``BaseChatModel``, such as a scripted one in tests or a
model the caller configured itself. Nothing is patched from outside.

Everything is built on first use, so constructing ``Components`` is instant and a command only
loads what it needs (``index`` with nothing changed loads no model at all).
"""

from __future__ import annotations

import threading
from functools import cached_property
from typing import TYPE_CHECKING

from .settings import Settings

if TYPE_CHECKING:
    from collections.abc import Mapping

    from langchain_core.language_models import BaseChatModel

    from index.config import IndexConfig
    from index.embeddings import FingerprintedEmbeddings
    from index.knowledge_base import KnowledgeBase
    from index.pipeline import Indexer


# Settings that decide which embedder is built: components that agree on them can share one.
_EMBEDDER_FIELDS = ("embedder", "embedding_model", "llm_threads")


def index_config(settings: Settings) -> IndexConfig:
    """The index layer's plain values, from the settings."""
    from index.config import IndexConfig

    return IndexConfig(
        data_dir=settings.data_dir,
        chunk_max_tokens=settings.chunk_max_tokens,
        chunk_min_tokens=settings.chunk_min_tokens,
        chunk_overlap_sentences=settings.chunk_overlap_sentences,
        max_file_bytes=int(settings.max_file_mb * 1024 * 1024),
        parse_timeout_s=settings.parse_timeout_s,
        chroma_host=settings.chroma_host,
        chroma_port=settings.chroma_port,
    )


def build_embeddings(settings: Settings) -> FingerprintedEmbeddings:
    """The embedder chosen by the settings (nothing is loaded until first use)."""
    from index import embeddings

    kind = settings.embedder
    if kind == "e5":
        return embeddings.E5Embeddings(threads=settings.llm_threads)
    if kind == "use":
        return embeddings.USEMultilingualEmbeddings(threads=settings.llm_threads)
    if kind == "sentence-transformers":
        return embeddings.SentenceTransformerEmbeddings(settings.embedding_model)
    if kind == "hashing":
        from index.hashing_embeddings import HashingEmbeddings

        return HashingEmbeddings()
    return embeddings.OpenAIEmbeddingsAdapter(
        settings.embedding_model,
        api_key=Settings.openai_api_key(),
        base_url=Settings.openai_base_url(),
        connect_timeout_s=settings.connect_timeout_s,
        request_timeout_s=settings.request_timeout_s,
        max_retries=settings.max_retries,
    )


def apply_overrides(base: Settings, overrides: dict) -> Settings:
    """``base`` with keyword overrides, validated like the environment is (an unknown name or a
    bad value is an error, not silently kept)."""
    unknown = sorted(set(overrides) - set(Settings.model_fields))
    if unknown:
        raise TypeError(f"Unknown setting(s): {', '.join(unknown)}; see `Settings` for the names.")
    return Settings.model_validate({**base.model_dump(), **overrides})


class Components:
    def __init__(
        self,
        settings: Settings | None = None,
        *,
        embeddings: FingerprintedEmbeddings | None = None,
        chat_models: Mapping[str, BaseChatModel] | None = None,
        **overrides,
    ):
        base = settings or Settings()
        self.settings = apply_overrides(base, overrides) if overrides else base
        self._embeddings = embeddings  # built on first use when not given
        self.chat_models: dict[str, BaseChatModel] = dict(chat_models or {})
        self._lock = threading.Lock()
        self._embeddings_lock = threading.Lock()
        self._knowledge_bases: dict[str, KnowledgeBase] = {}
        from index.keyword_tokens import use_dictionary_table

        # jieba's dictionary as a table a cold question reads instead of loading it (~1.2 s).
        use_dictionary_table(self.settings.data_dir / "models" / "jieba-dictionary.sqlite")
        from index.glosses import use_gloss_table

        # CC-CEDICT's glosses, read once into a table (~1 s) instead of in every process.
        use_gloss_table(self.settings.data_dir / "models" / "cedict-glosses.sqlite")

    def with_overrides(self, **overrides) -> Components:
        """New components with some settings changed; an embedder already loaded is reused when
        the embedder settings are unchanged (loading one takes seconds)."""
        settings = apply_overrides(self.settings, overrides)
        same_embedder = all(
            getattr(settings, f) == getattr(self.settings, f) for f in _EMBEDDER_FIELDS
        )
        return Components(
            settings,
            embeddings=self._embeddings if same_embedder else None,
            chat_models=self.chat_models,
        )

    def with_chat_model(self, kind: str, model: BaseChatModel) -> Components:
        """The same components, with backend ``kind`` answering through ``model``."""
        return Components(
            self.settings,
            embeddings=self._embeddings,
            chat_models={**self.chat_models, kind: model},
        )

    @property
    def embeddings(self) -> FingerprintedEmbeddings:
        # Its own lock: two sessions asking at once build one embedder, and ``knowledge_base``
        # asks for it while holding ``_lock``.
        with self._embeddings_lock:
            if self._embeddings is None:
                self._embeddings = build_embeddings(self.settings)
            return self._embeddings

    @cached_property
    def index_config(self) -> IndexConfig:
        return index_config(self.settings)

    def knowledge_base(self, collection: str | None = None) -> KnowledgeBase:
        from index.knowledge_base import KnowledgeBase

        name = collection or self.settings.collection
        with self._lock:
            if name not in self._knowledge_bases:
                self._knowledge_bases[name] = KnowledgeBase(
                    self.index_config, self.embeddings, name
                )
            return self._knowledge_bases[name]

    def build_backend(self, kind: str):
        """The answering backend ``kind``, around a chat model handed in for it if there is one."""
        from .backends import build_backend

        return build_backend(self.settings, kind, chat_model=self.chat_models.get(kind))

    def indexer(self, collection: str | None = None) -> Indexer:
        from index.pipeline import Indexer

        return Indexer(self.knowledge_base(collection))
