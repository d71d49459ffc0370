"""Incremental, crash-safe indexing of files into a knowledge base.

Order of writes, chosen so that a process killed at any point leaves a state the next run turns
into exactly the right one: mark the manifest dirty; per document upsert new chunks (deterministic
ids), delete its stale ones, then record it in the manifest; delete removed documents; rebuild the
keyword index from Chroma; clear the dirty flag. A run that finds the flag set (or a keyword
index that does not match the manifest) reconciles Chroma with the manifest first (orphans deleted,
documents with missing chunks re-indexed).

``--rebuild`` builds a new generation beside the live one (generations.py) and switches readers to
it when it is complete, so readers keep answering from the old index meanwhile. A rebuild killed
half-way leaves the old index live; the next run deletes the half-built generation.

A document whose content is already indexed under another name is recorded as an alias
(``duplicate_of``) with no chunks of its own; when the original is removed or edited, its aliases
are indexed again from their own files.
"""

from __future__ import annotations

import errno
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .chunking import chunk_document
from .documents import LoadedDocument
from .errors import DataDirError, DocumentError, IndexInUseError, UserFacingError
from .keyword_index import KeywordRecord
from .knowledge_base import IndexStores, KnowledgeBase
from .loaders import discover_files, is_inside, load_file
from .lock import writer_lock
from .manifest import DocumentEntry, Manifest, save_manifest
from .vector_store import open_chroma_client, release_chroma_client, store_failure, usable_client

# Chunks upserted per Chroma call while indexing many small documents.
WRITE_BATCH_CHUNKS = 64

ProgressCallback = Callable[[int, int, str], None]


@dataclass
class IndexReport:
    documents: int = 0
    chunks: int = 0
    added: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0
    seconds: float = 0.0
    errors: list[tuple[str, str]] = field(default_factory=list)

    def summary(self) -> dict:
        """The JSON summary of `index --json` (contracts.md)."""
        return {
            "documents": self.documents,
            "chunks": self.chunks,
            "added": self.added,
            "updated": self.updated,
            "removed": self.removed,
            "unchanged": self.unchanged,
            "seconds": round(self.seconds, 3),
        }


@dataclass
class _Source:
    name: str
    path: Path


def _named_sources(
    paths: Sequence[Path], *, follow_links: bool = False
) -> tuple[list[_Source], list[Path], list[tuple[str, str]]]:
    """Files to index with their document names (path relative to the given folder), the roots,
    and (name, message) for files left out because another file given has the same name.

    A file reached twice (a folder and a file inside it) is indexed once, under its first name;
    two different files with one name would replace each other's chunks on every run.
    """
    sources: list[_Source] = []
    roots: list[Path] = []
    errors: list[tuple[str, str]] = []
    by_path: set[Path] = set()
    by_name: dict[str, Path] = {}
    for given in paths:
        given = Path(given).expanduser()
        named = given.name  # a file given by a link is named as the user named it
        given = given.resolve()
        roots.append(given)
        files, refused = discover_files([given], follow_links=follow_links)
        errors += refused
        for file in files:
            if not given.is_dir():
                name = named
            elif is_inside(file, given):
                name = file.relative_to(given).as_posix()
            else:  # reached through a link out of the folder (--follow-links)
                name = file.name
            if file in by_path:
                continue
            if name in by_name:
                problem = (
                    f"Cannot index '{name}' from {file.parent}: a file of the same name from "
                    f"{by_name[name].parent} is indexed in this run; rename one of them."
                )
                errors.append((name, problem))
                continue
            by_path.add(file)
            by_name[name] = file
            sources.append(_Source(name, file))
    return sources, roots, errors


def _under(source: str, roots: list[Path]) -> bool:
    return any(is_inside(Path(source), root) for root in roots)


class Indexer:
    def __init__(self, kb: KnowledgeBase):
        self.kb = kb
        self.config = kb.config
        self.stores: IndexStores = kb.writer_stores()  # set again by each run

    # -- public ---------------------------------------------------------------------------------
    def index_paths(
        self,
        paths: Sequence[Path],
        *,
        rebuild: bool = False,
        progress: ProgressCallback | None = None,
        follow_links: bool = False,
    ) -> IndexReport:
        """Index ``paths``; inside a folder, links to files outside it are refused (listed in
        ``report.errors``) unless ``follow_links``."""
        started = time.perf_counter()
        report = IndexReport()
        sources, roots, report.errors = _named_sources(paths, follow_links=follow_links)
        with self._guarded_data_dir(), writer_lock(self._ensure_data_dir()):
            manifest = self._start(rebuild)
            loaded = self._load_all(sources, report)
            self._apply(manifest, loaded, roots, report, progress)
            self._publish()
        report.seconds = time.perf_counter() - started
        return report

    def remove_documents(self, names: Sequence[str]) -> IndexReport:
        started = time.perf_counter()
        report = IndexReport()
        with self._guarded_data_dir(), writer_lock(self._ensure_data_dir()):
            manifest = self._start(rebuild=False)
            missing = [n for n in names if n not in manifest.documents]
            if missing:
                raise DocumentError(
                    f"No indexed document is named '{missing[0]}'; check the library list."
                )
            self._mark_dirty(manifest)
            for name in names:
                self._remove(manifest, name)
                report.removed += 1
            self._finish(manifest, report)
        report.seconds = time.perf_counter() - started
        return report

    # -- steps ------------------------------------------------------------------------------------
    def _ensure_data_dir(self) -> Path:
        data_dir = self.config.data_dir
        try:
            data_dir.mkdir(parents=True, exist_ok=True)
            probe = data_dir / ".write-probe"
            probe.write_text("ok")
            probe.unlink()
        except OSError as exc:
            raise _data_dir_error(data_dir, exc) from exc
        return data_dir

    def _guarded_data_dir(self):
        return _DataDirGuard(self.config.data_dir, on_failure=self._reopen_store_next_time)

    def _reopen_store_next_time(self) -> None:
        """After a failed run, the next one in this process opens a fresh Chroma client: after a
        write failed (e.g. a full disk) the old one can hang forever on the next write."""
        self.kb.forget_stores()
        release_chroma_client(self.config)

    def _start(self, rebuild: bool) -> Manifest:
        """The manifest this run works on, with ``self.stores`` set to its generation."""
        kb = self.kb
        if rebuild:
            # The old manifest is not read: a rebuild must work when it is corrupt or was made with
            # another embedder or chunking. The new generation's empty, dirty manifest is written
            # before any of its other stores, so a run killed at any point leaves it findable.
            client = usable_client(self.config)
            self._discard_leftovers(client)
            self.stores = kb.writer_stores(kb.next_generation(client))
            manifest = Manifest(signature=kb.signature, dirty=True)
            save_manifest(self.stores.manifest_path, manifest)
            return manifest
        if kb.other_generations():
            self._discard_leftovers(open_chroma_client(self.config))
        self.stores = kb.writer_stores()
        manifest = self.stores.load_manifest()
        kb.check_signature(manifest)
        manifest.signature = kb.signature
        return manifest

    def _discard_leftovers(self, client) -> None:
        """Delete generations that are not live: a replaced one, or a killed rebuild's."""
        self.kb.discard_other_generations(client)

    def _publish(self) -> None:
        """A rebuilt generation, now complete, becomes the live one; the old one is deleted
        (a reader that was using it reads the pointer again)."""
        if self.kb.switched(self.stores):
            self.kb.publish(self.stores)
            self._discard_leftovers(open_chroma_client(self.config))

    def _load_all(self, sources: list[_Source], report: IndexReport) -> list[LoadedDocument]:
        loaded = []
        max_bytes = self.config.max_file_bytes
        for source in sources:
            try:
                loaded.append(
                    load_file(
                        source.path,
                        name=source.name,
                        max_bytes=max_bytes,
                        timeout_s=self.config.parse_timeout_s,
                    )
                )
            except DocumentError as exc:
                report.errors.append((source.name, str(exc)))
        return loaded

    def _apply(
        self,
        manifest: Manifest,
        loaded: list[LoadedDocument],
        roots: list[Path],
        report: IndexReport,
        progress: ProgressCallback | None,
    ) -> None:
        current = {doc.name: doc for doc in loaded}
        failed = {name for name, _ in report.errors}
        removed = [
            n
            for n, e in manifest.documents.items()
            if n not in current and n not in failed and _under(e.source, roots)
        ]
        to_write: list[LoadedDocument] = []
        hashes = {doc.name: doc.content_hash for doc in loaded}
        for doc in loaded:
            entry = manifest.documents.get(doc.name)
            if (
                entry
                and entry.content_hash == doc.content_hash
                and not manifest.alias_broken(entry, removed, hashes.get(entry.duplicate_of or ""))
            ):
                report.unchanged += 1
            else:
                to_write.append(doc)

        # A keyword index that does not match the manifest means the stores were changed outside
        # a clean run (or the keyword folder was lost): check Chroma as after a crash.
        keyword_stale = self.stores.keyword_index.current_fingerprint() != manifest.fingerprint()
        needs_reconcile = manifest.dirty or keyword_stale
        if not (needs_reconcile or to_write or removed):
            self._count(manifest, report)
            return

        self._mark_dirty(manifest)
        if needs_reconcile:
            extra = self._reconcile(manifest, current, to_write)
            report.unchanged -= len(extra)  # counted as unchanged above, re-indexed below
            to_write += extra
        for name in removed:
            self._remove(manifest, name)
            report.removed += 1
        # Originals by content: not a document whose content this run is about to change.
        changing = {
            doc.name
            for doc in to_write
            if doc.content_hash != getattr(manifest.documents.get(doc.name), "content_hash", None)
        }
        by_hash = {
            e.content_hash: n
            for n, e in manifest.documents.items()
            if e.duplicate_of is None and e.content_hash and n not in changing
        }
        batch: list[tuple[LoadedDocument, DocumentEntry, list]] = []
        for done, doc in enumerate(to_write, start=1):
            if progress:
                progress(done, len(to_write), doc.name)
            is_new = doc.name not in manifest.documents
            batch.append(self._prepare_document(doc, by_hash))
            report.added += is_new
            report.updated += not is_new
            if sum(len(chunks) for _, _, chunks in batch) >= WRITE_BATCH_CHUNKS:
                self._write_batch(manifest, batch)
                batch = []
        if batch:
            self._write_batch(manifest, batch)
        self._finish(manifest, report)

    def _prepare_document(
        self, doc: LoadedDocument, by_hash: dict[str, str]
    ) -> tuple[LoadedDocument, DocumentEntry, list]:
        """The document's manifest entry and chunks (none for a copy of an indexed document)."""
        original = by_hash.get(doc.content_hash)
        if original is not None and original != doc.name:
            # Same content under another name: recorded, not indexed twice.
            entry = DocumentEntry(
                doc.content_hash, _source_of(doc), doc.format, [], duplicate_of=original
            )
            return doc, entry, []
        chunks = chunk_document(
            doc,
            max_tokens=self.config.chunk_max_tokens,
            min_tokens=self.config.chunk_min_tokens,
            overlap_sentences=self.config.chunk_overlap_sentences,
            fits=self.kb.embeddings.fits,
        )
        by_hash[doc.content_hash] = doc.name
        entry = DocumentEntry(doc.content_hash, _source_of(doc), doc.format, [c.id for c in chunks])
        return doc, entry, chunks

    def _write_batch(
        self, manifest: Manifest, batch: list[tuple[LoadedDocument, DocumentEntry, list]]
    ) -> None:
        """Upsert the chunks of several documents in one call (Chroma's per-call cost dominates
        small documents), then record them: the manifest still follows the stores, so a crash
        in between is repaired by the next run's reconcile."""
        store = self.stores.vector_store
        store.upsert_chunks([chunk for _, _, chunks in batch for chunk in chunks])
        for doc, entry, _ in batch:
            old = manifest.documents.get(doc.name)
            if old is not None:
                stale = set(old.chunk_ids) - set(entry.chunk_ids)
                if stale:
                    store.delete(sorted(stale))
                if old.content_hash != doc.content_hash:
                    manifest.detach_aliases(doc.name)  # they hold the old content, not this one
            manifest.documents[doc.name] = entry
        save_manifest(self.stores.manifest_path, manifest)

    def _remove(self, manifest: Manifest, name: str) -> None:
        entry = manifest.documents.pop(name)
        if entry.chunk_ids:
            self.stores.vector_store.delete(entry.chunk_ids)
        manifest.detach_aliases(name)  # an alias now has to carry the content itself
        save_manifest(self.stores.manifest_path, manifest)

    def _reconcile(
        self, manifest: Manifest, current: dict[str, LoadedDocument], to_write: list[LoadedDocument]
    ) -> list[LoadedDocument]:
        """After an interrupted run: delete orphan chunks, re-index documents missing chunks."""
        store = self.stores.vector_store
        stored = store.all_ids()
        expected = manifest.chunk_ids()
        orphans = stored - expected
        if orphans:
            store.delete(sorted(orphans))
        pending = {doc.name for doc in to_write}
        extra = []
        for name, entry in list(manifest.documents.items()):
            if set(entry.chunk_ids) - stored:
                if name in current and name not in pending:
                    extra.append(current[name])
                elif name not in current:
                    # Its file is not part of this run: keep what is stored, so the manifest
                    # matches Chroma again, and re-index it when its file is next given.
                    entry.chunk_ids = [cid for cid in entry.chunk_ids if cid in stored]
                    entry.content_hash = ""
        return extra

    def _mark_dirty(self, manifest: Manifest) -> None:
        if not manifest.dirty:
            manifest.dirty = True
            save_manifest(self.stores.manifest_path, manifest)

    def _finish(self, manifest: Manifest, report: IndexReport) -> None:
        records = [
            KeywordRecord(cid, text, meta)
            for cid, text, meta in self.stores.vector_store.get_records()
        ]
        expected = manifest.chunk_ids()
        if {r.id for r in records} != expected:
            # Cannot happen after the steps above; refuse to publish an inconsistent index.
            raise DataDirError(
                f"The vector store in {self.config.data_dir} disagrees with the manifest; "
                "run `survey-assistant index --rebuild`."
            )
        self.stores.keyword_index.build(manifest.fingerprint(), records)
        manifest.dirty = False
        save_manifest(self.stores.manifest_path, manifest)
        self._count(manifest, report)

    @staticmethod
    def _count(manifest: Manifest, report: IndexReport) -> None:
        report.documents = len(manifest.documents)
        report.chunks = sum(len(e.chunk_ids) for e in manifest.documents.values())


def _source_of(doc: LoadedDocument) -> str:
    return str(Path(doc.source).resolve())


def _data_dir_error(data_dir: Path, exc: OSError) -> DataDirError:
    if exc.errno == errno.ENOSPC:
        return DataDirError(
            f"The disk holding {data_dir} is full; free some space and run the command again "
            "(the documents indexed before are kept)."
        )
    if exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        return DataDirError(
            f"The data directory {data_dir} is not writable; fix its permissions or set "
            "ASSISTANT_DATA_DIR to a writable folder."
        )
    return DataDirError(
        f"The data directory {data_dir} cannot be used ({exc.strerror or exc}); check it or set "
        "ASSISTANT_DATA_DIR to another folder."
    )


class _DataDirGuard:
    """Turns low-level storage failures during a run into one clear DataDirError."""

    def __init__(self, data_dir: Path, on_failure: Callable[[], None]):
        self.data_dir = data_dir
        self.on_failure = on_failure

    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type, exc, tb) -> bool:
        if exc is None or isinstance(exc, IndexInUseError):  # another process: nothing touched
            return False
        self.on_failure()
        if isinstance(exc, UserFacingError):
            return False
        if isinstance(exc, OSError):
            raise _data_dir_error(self.data_dir, exc) from exc
        if type(exc).__module__.startswith("chromadb"):
            if store_failure(self.data_dir, exc) == "full":
                raise _data_dir_error(self.data_dir, OSError(errno.ENOSPC, "disk full")) from exc
            raise DataDirError(
                f"Writing the vector store in {self.data_dir} failed ({type(exc).__name__}); check free "
                "disk space and permissions, then run the command again (documents indexed before are kept)."
            ) from exc
        return False
