"""The dense store: a Chroma collection behind LangChain's ``Chroma`` vector store.

Embedded ``PersistentClient`` under the data directory by default; a Chroma server when
``ASSISTANT_CHROMA_HOST`` is set (scale-out). The collection uses cosine distance and records the
embedder fingerprint in its metadata, so a collection is never filled by two models.

Stored document text is the *indexed* text (section path + newline + chunk body, the same text
that was embedded); ``body_start`` in the metadata says where the chunk's own text begins.
"""

from __future__ import annotations

import errno
import re
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings

from . import faq_vectors
from .config import IndexConfig
from .documents import indexed_text
from .errors import DataDirError, IndexMismatchError

if TYPE_CHECKING:
    from langchain_chroma import Chroma

UPSERT_BATCH = 256
_NEARLY_FULL_BYTES = 1024 * 1024
_COLLECTION_NAME = re.compile(r"[^a-zA-Z0-9._-]")


class CollectionMissingError(DataDirError):
    """The manifest lists chunks but their Chroma collection does not exist (deleted outside a
    run, or the generation a reader held was replaced a moment ago)."""


def chroma_collection_name(collection: str) -> str:
    """Chroma accepts 3-512 characters of [a-zA-Z0-9._-] (no ".."; settings allow at most 64).
    A name that had to be changed to fit gets a hash of the original, so "知识库" and "资料库" do not share one collection."""
    name = _COLLECTION_NAME.sub("-", collection).strip("-._")
    if name != collection or len(name) < 3:
        import hashlib

        name = f"{name or 'kb'}-{hashlib.sha256(collection.encode()).hexdigest()[:10]}"
    return name


def open_chroma_client(config: IndexConfig):
    """A Chroma client for the configuration (embedded under data_dir, or a server)."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    if config.chroma_host:
        return chromadb.HttpClient(
            host=config.chroma_host, port=config.chroma_port, settings=chroma_settings
        )
    path = config.chroma_path
    try:
        path.mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(path=str(path), settings=chroma_settings)
    except Exception as exc:
        _forget_failed_client(str(path))
        failure = store_failure(path, exc)
        if failure == "full":
            raise DataDirError(
                f"The disk holding {path} is full; free some space and run the command again "
                "(the documents indexed before are kept)."
            ) from exc
        if failure == "read-only":
            raise DataDirError(
                f"The vector store in {path} is not writable; fix its permissions or set "
                "ASSISTANT_DATA_DIR to a writable folder."
            ) from exc
        raise DataDirError(
            f"The vector store in {path} cannot be opened ({type(exc).__name__}); it may be "
            "damaged: run `survey-assistant index --rebuild`."
        ) from exc


def store_failure(path: Path, exc: BaseException | None) -> Literal["full", "read-only", "damaged"]:
    """What a storage error most likely means. Chroma reports a full disk or a read-only folder
    as an internal error with SQLite's words in the message, and sometimes only as a failed
    compaction: then the free space tells."""
    text = str(exc).lower()
    if (isinstance(exc, OSError) and exc.errno == errno.ENOSPC) or any(
        words in text for words in ("disk is full", "no space left")
    ):
        return "full"
    try:
        existing = next(p for p in (path, *path.parents) if p.exists())
        if shutil.disk_usage(existing).free < _NEARLY_FULL_BYTES:
            return "full"
    except (OSError, StopIteration):
        pass
    if isinstance(exc, PermissionError) or any(
        words in text
        for words in ("readonly", "read-only", "permission denied", "unable to open database")
    ):
        return "read-only"
    return "damaged"


def _forget_failed_client(path: str) -> None:
    """Chroma caches one client system per path in a process and keeps it when it breaks: when
    its start fails (every later open of that path would fail too, even after the folder is
    repaired or removed), or after a failed write (seen: the next write hangs forever). Forget it,
    so that the next open starts a fresh one; a caller still holding the old one keeps it."""
    from chromadb.api.shared_system_client import SharedSystemClient

    systems = getattr(SharedSystemClient, "_identifier_to_system", None)
    if isinstance(systems, dict):
        systems.pop(path, None)


def release_chroma_client(config: IndexConfig) -> None:
    """The next ``open_chroma_client`` of this process starts a fresh embedded client."""
    if not config.chroma_host:
        _forget_failed_client(str(config.chroma_path))


def usable_client(config: IndexConfig):
    """A client for a rebuild: an embedded store that cannot be opened at all because its files
    are damaged is removed as a whole first. Nothing in it can be read, and keeping it would make
    every later run fail. A full disk or a read-only folder is fixed by the user, not by deleting.
    """
    try:
        return open_chroma_client(config)
    except DataDirError as exc:
        path = config.chroma_path
        if config.chroma_host or store_failure(path, exc.__cause__) != "damaged":
            raise
        remove_tree(path)
        return open_chroma_client(config)


def collection_names(client) -> set[str]:
    return {getattr(c, "name", c) for c in client.list_collections()}


def drop_collection(client, name: str) -> None:
    """Delete a Chroma collection whatever embedder filled it (a generation no longer live)."""
    import contextlib

    from chromadb.errors import NotFoundError

    with contextlib.suppress(NotFoundError, ValueError):  # already gone (older Chroma: ValueError)
        client.delete_collection(name)


class ChunkCollection:
    """One Chroma collection of a knowledge base's chunks, written by the indexer and read by the
    retriever. (Not a LangChain ``VectorStore``: it holds one, ``langchain``, for the dense
    search, and Chroma's own collection, ``collection``, for ids, deletes and records.)

    Readers open it with ``create=False``: a reader must never create a collection (one of a
    generation deleted a moment ago would come back empty and be searched as if it were the index).
    """

    def __init__(
        self,
        client,
        name: str,
        embeddings: Embeddings,
        embedder_fingerprint: str,
        *,
        create: bool = True,
    ):
        from chromadb.errors import NotFoundError
        from langchain_chroma import Chroma

        self.name = name
        self.client = client
        try:
            self.langchain: Chroma = Chroma(
                collection_name=name,
                embedding_function=embeddings,
                client=client,
                collection_metadata={"embedder": embedder_fingerprint},
                collection_configuration={"hnsw": {"space": "cosine"}},
                create_collection_if_not_exists=create,
            )
            # Chroma's public handle on the same collection; no embedding function (Chroma's
            # default would be an ONNX model): every vector comes from ours.
            self.collection = client.get_collection(name, embedding_function=None)
        except (NotFoundError, ValueError) as exc:
            if create:
                raise
            raise CollectionMissingError(
                f"The vector collection '{name}' is missing although the manifest lists documents; "
                "run `survey-assistant index --rebuild`."
            ) from exc
        stored = (self.collection.metadata or {}).get("embedder")
        if stored and stored != embedder_fingerprint:
            raise IndexMismatchError(
                f"The vector collection '{self.name}' holds vectors of embedder '{stored}', not "
                f"'{embedder_fingerprint}'; run `survey-assistant index --rebuild` to re-index."
            )

    def close(self) -> None:
        """Release this store's Chroma client (the last holder of an embedded store's files
        stops its system, as a new process would find them)."""
        self.client.close()

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
            self._add_question_vectors(metadatas)
            self.langchain.add_texts(texts=texts, metadatas=metadatas, ids=[c.id for c in batch])

    def _add_question_vectors(self, metadatas: list[dict]) -> None:
        """Each FAQ record's question, embedded as the FAQ match compares it (faq_vectors.py)."""
        asking = [m for m in metadatas if m.get("kind") == "faq" and m.get("question")]
        if not asking:
            return
        vectors = self.langchain.embeddings.embed_documents([m["question"] for m in asking])
        for metadata, vector in zip(asking, vectors, strict=True):
            metadata[faq_vectors.KEY] = faq_vectors.encode(vector)

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


def remove_tree(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
