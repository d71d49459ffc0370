"""The composition root: builds the embedder, knowledge bases, indexer, retriever and chain from
one Settings object. The CLI, the Python API and the web app all receive what it built.

Everything is built on first use, so constructing ``Components`` is instant and a command only
loads what it needs (``index`` with nothing changed loads no model at all).
"""

from __future__ import annotations

import threading
from functools import cached_property
from typing import TYPE_CHECKING

from .settings import Settings

if TYPE_CHECKING:
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
    def __init__(self, settings: Settings | None = None, **overrides):
        base = settings or Settings()
        self.settings = apply_overrides(base, overrides) if overrides else base
        self._lock = threading.Lock()
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
        derived = Components(apply_overrides(self.settings, overrides))
        same_embedder = all(
            getattr(derived.settings, f) == getattr(self.settings, f) for f in _EMBEDDER_FIELDS
        )
        if same_embedder and "embeddings" in self.__dict__:
            derived.__dict__["embeddings"] = self.__dict__["embeddings"]
        return derived

    @cached_property
    def embeddings(self) -> FingerprintedEmbeddings:
        return build_embeddings(self.settings)

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

    def indexer(self, collection: str | None = None) -> Indexer:
        from index.pipeline import Indexer

        return Indexer(self.knowledge_base(collection))
