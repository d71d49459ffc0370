"""One knowledge collection on disk: manifest, Chroma collection and keyword index together.

Paths under the data directory (nothing is created until something is written):
``manifests/<collection>.json``, ``chroma/`` (shared by collections), ``keyword/<collection>/``,
and for a generation N ≥ 1 made by ``index --rebuild`` the same names with ``.gN`` added
(generations.py). ``manifests/<collection>.live`` names the live generation.

Readers always go through the live generation: ``stores()`` re-reads the pointer (one small file)
on every call, so a long-running app switches to a rebuilt index without a restart.
"""

from __future__ import annotations

import shutil
import threading
from functools import cached_property
from pathlib import Path

from .config import IndexConfig
from .embeddings import FingerprintedEmbeddings
from .errors import IndexMismatchError
from .generations import Generation, GenerationPointer, generation
from .keyword_index import KeywordIndex
from .manifest import IndexSignature, Manifest, load_manifest
from .vector_store import (
    ChunkCollection,
    chroma_collection_name,
    collection_names,
    drop_collection,
    open_chroma_client,
)


class IndexStores:
    """The manifest, Chroma collection and keyword index of one generation."""

    def __init__(self, kb: KnowledgeBase, where: Generation, *, writable: bool):
        self.kb = kb
        self.generation = where
        self.number = where.number
        self.manifest_path = where.manifest_path
        self.keyword_index = KeywordIndex(where.keyword_dir)
        self.writable = writable

    def load_manifest(self) -> Manifest:
        return load_manifest(self.manifest_path)

    @cached_property
    def vector_store(self) -> ChunkCollection:
        client = open_chroma_client(self.kb.config)
        fingerprint = self.kb.embeddings.fingerprint
        return ChunkCollection(
            client,
            self.generation.chroma_name,
            self.kb.embeddings,
            fingerprint,
            create=self.writable,
        )


class KnowledgeBase:
    def __init__(self, config: IndexConfig, embeddings: FingerprintedEmbeddings, collection: str):
        self.config = config
        self.embeddings = embeddings
        self.collection = collection
        self.pointer = GenerationPointer(config.data_dir, collection)
        self._chroma_base = chroma_collection_name(collection)
        self._readers: dict[int, IndexStores] = {}
        self._lock = threading.Lock()

    @property
    def data_dir(self) -> Path:
        return self.config.data_dir

    @property
    def signature(self) -> IndexSignature:
        return IndexSignature(
            embedder=self.embeddings.fingerprint,
            chunk_max_tokens=self.config.chunk_max_tokens,
            chunk_min_tokens=self.config.chunk_min_tokens,
            chunk_overlap_sentences=self.config.chunk_overlap_sentences,
        )

    # -- readers --------------------------------------------------------------------------------
    def stores(self) -> IndexStores:
        """The live generation, for reading."""
        number = self.pointer.live()
        with self._lock:
            stores = self._readers.get(number)
            if stores is None:
                self._readers = {  # a replaced generation is gone from disk: let it go here too
                    number: IndexStores(self, self._generation(number), writable=False)
                }
                stores = self._readers[number]
            return stores

    def live_manifest(self) -> tuple[IndexStores, Manifest]:
        """The live generation and its manifest. A rebuild that switches generations between
        reading the pointer and reading the manifest deletes the old manifest: read again."""
        for _ in range(3):
            stores = self.stores()
            if stores.manifest_path.exists() or self.pointer.live() == stores.number:
                return stores, stores.load_manifest()
        return stores, stores.load_manifest()

    def switched(self, stores: IndexStores) -> bool:
        """Whether ``stores`` is no longer the live generation."""
        return self.pointer.live() != stores.number

    def forget_stores(self) -> None:
        """Open fresh stores on the next call (after a failed write)."""
        with self._lock:
            self._readers = {}

    # The live generation's parts, for callers that read one thing at a time.
    @property
    def manifest_path(self) -> Path:
        return self.stores().manifest_path

    @property
    def keyword_index(self) -> KeywordIndex:
        return self.stores().keyword_index

    @property
    def vector_store(self) -> ChunkCollection:
        return self.stores().vector_store

    def load_manifest(self) -> Manifest:
        return self.live_manifest()[1]

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

    # -- the writer (under the writer lock) -----------------------------------------------------
    def writer_stores(self, number: int | None = None) -> IndexStores:
        """Writable stores of generation ``number`` (default: the live one)."""
        number = self.pointer.live() if number is None else number
        return IndexStores(self, self._generation(number), writable=True)

    def next_generation(self, client) -> int:
        """A generation number no store uses yet."""
        used = self.pointer.on_disk(collection_names(client), self._chroma_base)
        return max(used | {self.pointer.live()}) + 1

    def publish(self, stores: IndexStores) -> None:
        """Make ``stores`` the live generation (readers switch on their next question)."""
        self.pointer.publish(stores.number)

    def other_generations(self, chroma_names: set[str] | frozenset[str] = frozenset()) -> set[int]:
        """Generations on disk that are not live. Without ``chroma_names`` only the files are
        looked at, which is enough to know whether there is anything to delete: a generation's
        manifest is written before its other stores and deleted after them."""
        live = self.pointer.live()
        found = self.pointer.on_disk(set(chroma_names), self._chroma_base)
        legacy = self._generation(0)
        if live and (
            legacy.manifest_path.exists()
            or legacy.keyword_dir.exists()
            or legacy.chroma_name in chroma_names
        ):
            found.add(0)
        return found - {live}

    def discard_other_generations(self, client) -> list[int]:
        """Delete every generation but the live one: the one a rebuild replaced, or a rebuild's
        that was killed half-way. The manifest goes last, so a run killed in between still finds
        the generation on disk and finishes deleting it."""
        names = collection_names(client)
        discarded = sorted(self.other_generations(names))
        for number in discarded:
            where = self._generation(number)
            if where.chroma_name in names:
                drop_collection(client, where.chroma_name)
            shutil.rmtree(where.keyword_dir, ignore_errors=True)
            where.manifest_path.unlink(missing_ok=True)
        return discarded

    def _generation(self, number: int) -> Generation:
        return generation(self.data_dir, self.collection, self._chroma_base, number)
