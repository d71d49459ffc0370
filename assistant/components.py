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


class Components:
    def __init__(self, settings: Settings | None = None, **overrides):
        base = settings or Settings()
        self.settings = base.model_copy(update=overrides) if overrides else base
        self._lock = threading.Lock()
        self._knowledge_bases: dict[str, KnowledgeBase] = {}

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
