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
    from index.embeddings import FingerprintedEmbeddings
    from index.knowledge_base import KnowledgeBase
    from index.pipeline import Indexer


# Settings that decide which embedder is built: components that agree on them can share one.
_EMBEDDER_FIELDS = ("embedder", "embedding_model", "llm_threads")


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
        from index.embeddings import build_embeddings

        return build_embeddings(self.settings)

    def knowledge_base(self, collection: str | None = None) -> KnowledgeBase:
        from index.knowledge_base import KnowledgeBase

        name = collection or self.settings.collection
        with self._lock:
            if name not in self._knowledge_bases:
                self._knowledge_bases[name] = KnowledgeBase(self.settings, self.embeddings, name)
            return self._knowledge_bases[name]

    def indexer(self, collection: str | None = None) -> Indexer:
        from index.pipeline import Indexer

        return Indexer(self.knowledge_base(collection))
