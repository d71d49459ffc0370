"""One knowledge collection on disk: manifest, Chroma collection and keyword index together.

Paths under the data directory (nothing is created until something is written):
``manifests/<collection>.json``, ``chroma/`` (shared by collections), ``keyword/<collection>/``.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

from assistant.errors import IndexMismatchError
from assistant.settings import Settings

from .embeddings import FingerprintedEmbeddings
from .keyword_index import KeywordIndex
from .manifest import IndexSignature, Manifest, load_manifest
from .vector_store import VectorStore, open_chroma_client


class KnowledgeBase:
    def __init__(self, settings: Settings, embeddings: FingerprintedEmbeddings, collection: str):
        self.settings = settings
        self.embeddings = embeddings
        self.collection = collection
        self.data_dir: Path = settings.data_dir
        self.manifest_path = self.data_dir / "manifests" / f"{collection}.json"
        self.keyword_index = KeywordIndex(self.data_dir / "keyword" / collection)

    @property
    def signature(self) -> IndexSignature:
        return IndexSignature(
            embedder=self.embeddings.fingerprint,
            chunk_max_tokens=self.settings.chunk_max_tokens,
            chunk_min_tokens=self.settings.chunk_min_tokens,
            chunk_overlap_sentences=self.settings.chunk_overlap_sentences,
        )

    def load_manifest(self) -> Manifest:
        return load_manifest(self.manifest_path)

    def check_signature(self, manifest: Manifest) -> None:
        """Refuse to mix: an index built with other settings must be rebuilt, not extended."""
        if (
            manifest.signature is not None
            and manifest.documents
            and manifest.signature != self.signature
        ):
            raise IndexMismatchError(
                f"The index '{self.collection}' in {self.data_dir} was built with "
                f"{manifest.signature.describe()}, but the settings ask for {self.signature.describe()}; "
                "run `survey-assistant index --rebuild` to re-index, or restore the old settings."
            )

    @cached_property
    def vector_store(self) -> VectorStore:
        client = open_chroma_client(self.settings)
        return VectorStore(client, self.collection, self.embeddings, self.embeddings.fingerprint)
