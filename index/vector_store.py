"""The dense store: a Chroma collection behind LangChain's ``Chroma`` vector store.

Embedded ``PersistentClient`` under the data directory by default; a Chroma server when
``ASSISTANT_CHROMA_HOST`` is set (scale-out). The collection uses cosine distance and records the
embedder fingerprint in its metadata, so a collection is never filled by two models.

Stored document text is the *indexed* text (section path + newline + chunk body, the same text
that was embedded); ``body_start`` in the metadata says where the chunk's own text begins.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings

from assistant.errors import DataDirError, IndexMismatchError
from assistant.settings import Settings

from .documents import indexed_text

if TYPE_CHECKING:
    from langchain_chroma import Chroma

UPSERT_BATCH = 256
_COLLECTION_NAME = re.compile(r"[^a-zA-Z0-9._-]")


def chroma_collection_name(collection: str) -> str:
    """Chroma accepts 3-512 characters of [a-zA-Z0-9._-]."""
    name = _COLLECTION_NAME.sub("-", collection).strip("-._") or "survey"
    return (name + "-kb")[:512] if len(name) < 3 else name[:512]


def open_chroma_client(settings: Settings):
    """A Chroma client for the settings (embedded under data_dir, or a server)."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    if settings.chroma_host:
        return chromadb.HttpClient(
            host=settings.chroma_host, port=settings.chroma_port, settings=chroma_settings
        )
    path = settings.data_dir / "chroma"
    try:
        path.mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(path=str(path), settings=chroma_settings)
    except Exception as exc:
        _forget_failed_client(str(path))
        raise DataDirError(
            f"The vector store in {path} cannot be opened ({type(exc).__name__}); check that the folder "
            "is writable, or run `survey-assistant index --rebuild`."
        ) from exc


def _forget_failed_client(path: str) -> None:
    """Chroma caches a client's system per path before starting it and keeps it when the start
    fails, so every later open of that path in this process would fail too, even after the
    folder is repaired or removed. Drop that half-started system."""
    from chromadb.api.shared_system_client import SharedSystemClient

    systems = getattr(SharedSystemClient, "_identifier_to_system", None)
    if isinstance(systems, dict):
        systems.pop(path, None)


def drop_collection(settings: Settings, collection: str) -> None:
    """Delete a collection whatever embedder filled it (``index --rebuild``, also after a change
    of embedder, which ``VectorStore`` refuses to open).

    An embedded store that cannot be opened at all (damaged files) is removed as a whole: nothing
    in it can be read, and keeping it would make every later run fail.
    """
    try:
        client = open_chroma_client(settings)
    except DataDirError:
        if settings.chroma_host:
            raise
        remove_tree(settings.data_dir / "chroma")
        return
    name = chroma_collection_name(collection)
    existing = {getattr(c, "name", c) for c in client.list_collections()}
    if name in existing:
        client.delete_collection(name)


class VectorStore:
    """One knowledge collection in Chroma, written by the indexer and read by the retriever."""

    def __init__(self, client, collection: str, embeddings: Embeddings, embedder_fingerprint: str):
        from langchain_chroma import Chroma

        self.name = chroma_collection_name(collection)
        self._client = client
        self._fingerprint = embedder_fingerprint
        self.langchain: Chroma = Chroma(
            collection_name=self.name,
            embedding_function=embeddings,
            client=client,
            collection_metadata={"embedder": embedder_fingerprint},
            collection_configuration={"hnsw": {"space": "cosine"}},
        )
        stored = (self.langchain._collection.metadata or {}).get("embedder")
        if stored and stored != embedder_fingerprint:
            raise IndexMismatchError(
                f"The vector collection '{self.name}' holds vectors of embedder '{stored}', not "
                f"'{embedder_fingerprint}'; run `survey-assistant index --rebuild` to re-index."
            )

    @property
    def collection(self):
        return self.langchain._collection

    def upsert_chunks(self, chunks: Sequence[Document]) -> None:
        """Embed and upsert (deterministic ids make a repeated batch a no-op, never a duplicate)."""
        for begin in range(0, len(chunks), UPSERT_BATCH):
            batch = chunks[begin : begin + UPSERT_BATCH]
            texts, metadatas = [], []
            for chunk in batch:
                section = chunk.metadata.get("section", "")
                text = indexed_text(section, chunk.page_content)
                texts.append(text)
                metadata = {k: v for k, v in chunk.metadata.items() if v is not None}
                metadata["body_start"] = len(text) - len(chunk.page_content)
                metadatas.append(metadata)
            self.langchain.add_texts(texts=texts, metadatas=metadatas, ids=[c.id for c in batch])

    def delete(self, ids: Sequence[str]) -> None:
        ids = list(ids)
        for begin in range(0, len(ids), UPSERT_BATCH * 4):
            self.collection.delete(ids=ids[begin : begin + UPSERT_BATCH * 4])

    def all_ids(self) -> set[str]:
        return set(self.collection.get(include=[])["ids"])

    def count(self) -> int:
        return self.collection.count()

    def get_records(self, ids: Sequence[str] | None = None) -> list[tuple[str, str, dict]]:
        """(id, stored text, metadata) for the given ids, or for every record."""
        result = self.collection.get(
            ids=list(ids) if ids is not None else None, include=["documents", "metadatas"]
        )
        return list(zip(result["ids"], result["documents"], result["metadatas"], strict=True))

    def get_embeddings(self, ids: Sequence[str]) -> dict[str, list[float]]:
        if not ids:
            return {}
        result = self.collection.get(ids=list(ids), include=["embeddings"])
        return dict(zip(result["ids"], result["embeddings"], strict=True))

    def drop(self) -> None:
        import contextlib

        with contextlib.suppress(Exception):  # the collection may not exist yet
            self._client.delete_collection(self.name)


def remove_tree(path: Path) -> None:
    import shutil

    shutil.rmtree(path, ignore_errors=True)
