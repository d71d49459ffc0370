"""Incremental, crash-safe indexing of files into a knowledge base.

Order of writes, chosen so that a process killed at any point leaves a state the next run turns
into exactly the right one: mark the manifest dirty; per document upsert new chunks (deterministic
ids), delete its stale ones, then record it in the manifest; delete removed documents; rebuild the
keyword index from Chroma; clear the dirty flag. A run that finds the flag set reconciles Chroma
with the manifest first (orphans deleted, documents with missing chunks re-indexed).
"""

from __future__ import annotations

import errno
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from assistant.errors import AssistantError, DataDirError, DocumentError

from .chunking import chunk_document
from .documents import LoadedDocument
from .keyword_index import KeywordRecord
from .knowledge_base import KnowledgeBase
from .loaders import discover_files, load_file
from .lock import writer_lock
from .manifest import DocumentEntry, Manifest, save_manifest

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


def _named_sources(paths: Sequence[Path]) -> tuple[list[_Source], list[Path]]:
    """Files to index with their document names (path relative to the given folder), and the roots."""
    sources: list[_Source] = []
    roots: list[Path] = []
    for given in paths:
        given = Path(given).expanduser().resolve()
        roots.append(given)
        for file in discover_files([given]):
            name = file.relative_to(given).as_posix() if given.is_dir() else file.name
            sources.append(_Source(name, file))
    return sources, roots


def _under(source: str, roots: list[Path]) -> bool:
    path = Path(source)
    return any(path == root or root in path.parents for root in roots)


class Indexer:
    def __init__(self, kb: KnowledgeBase):
        self.kb = kb
        self.settings = kb.settings

    # -- public ---------------------------------------------------------------------------------
    def index_paths(
        self,
        paths: Sequence[Path],
        *,
        rebuild: bool = False,
        progress: ProgressCallback | None = None,
    ) -> IndexReport:
        started = time.perf_counter()
        report = IndexReport()
        sources, roots = _named_sources(paths)
        with self._guarded_data_dir(), writer_lock(self._ensure_data_dir()):
            manifest = self._start(rebuild)
            loaded = self._load_all(sources, report)
            self._apply(manifest, loaded, roots, report, progress)
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
            self._finish(manifest, report, changed=True)
        report.seconds = time.perf_counter() - started
        return report

    # -- steps ------------------------------------------------------------------------------------
    def _ensure_data_dir(self) -> Path:
        data_dir = self.settings.data_dir
        try:
            data_dir.mkdir(parents=True, exist_ok=True)
            probe = data_dir / ".write-probe"
            probe.write_text("ok")
            probe.unlink()
        except OSError as exc:
            raise _data_dir_error(data_dir, exc) from exc
        return data_dir

    def _guarded_data_dir(self):
        return _DataDirGuard(self.settings.data_dir)

    def _start(self, rebuild: bool) -> Manifest:
        kb = self.kb
        manifest = kb.load_manifest()
        if rebuild:
            if kb.settings.chroma_host or (self.settings.data_dir / "chroma").exists():
                kb.vector_store.drop()
                kb.__dict__.pop("vector_store", None)
            kb.keyword_index.drop()
            manifest = Manifest(signature=kb.signature, dirty=True)
            save_manifest(kb.manifest_path, manifest)
        else:
            kb.check_signature(manifest)
        manifest.signature = kb.signature
        return manifest

    def _load_all(self, sources: list[_Source], report: IndexReport) -> list[LoadedDocument]:
        loaded = []
        max_bytes = int(self.settings.max_file_mb * 1024 * 1024)
        for source in sources:
            try:
                loaded.append(
                    load_file(
                        source.path,
                        name=source.name,
                        max_bytes=max_bytes,
                        timeout_s=self.settings.parse_timeout_s,
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
        was_dirty = manifest.dirty
        current = {doc.name: doc for doc in loaded}
        failed = {name for name, _ in report.errors}
        by_hash = {
            e.content_hash: n for n, e in manifest.documents.items() if e.duplicate_of is None
        }

        removed = [
            n
            for n, e in manifest.documents.items()
            if n not in current and n not in failed and _under(e.source, roots)
        ]
        to_write: list[LoadedDocument] = []
        for doc in loaded:
            entry = manifest.documents.get(doc.name)
            if (
                entry
                and entry.content_hash == doc.content_hash
                and not _alias_broken(manifest, entry, removed)
            ):
                report.unchanged += 1
            else:
                to_write.append(doc)

        keyword_stale = self.kb.keyword_index.current_fingerprint() != manifest.fingerprint()
        if not (was_dirty or to_write or removed or keyword_stale):
            self._count(manifest, report)
            return

        self._mark_dirty(manifest)
        if was_dirty:
            to_write += self._reconcile(manifest, current, to_write)
        for name in removed:
            self._remove(manifest, name)
            report.removed += 1
        by_hash = {
            e.content_hash: n for n, e in manifest.documents.items() if e.duplicate_of is None
        }
        for done, doc in enumerate(to_write, start=1):
            if progress:
                progress(done, len(to_write), doc.name)
            is_new = doc.name not in manifest.documents
            self._write_document(manifest, doc, by_hash)
            report.added += is_new
            report.updated += not is_new
        self._finish(manifest, report, changed=True)

    def _write_document(
        self, manifest: Manifest, doc: LoadedDocument, by_hash: dict[str, str]
    ) -> None:
        store = self.kb.vector_store
        old = manifest.documents.get(doc.name)
        original = by_hash.get(doc.content_hash)
        if original is not None and original != doc.name:
            # Same content under another name: recorded, not indexed twice.
            entry = DocumentEntry(
                doc.content_hash, _source_of(doc), doc.format, [], duplicate_of=original
            )
        else:
            chunks = chunk_document(
                doc,
                max_tokens=self.settings.chunk_max_tokens,
                min_tokens=self.settings.chunk_min_tokens,
                overlap_sentences=self.settings.chunk_overlap_sentences,
                fits=self.kb.embeddings.fits,
            )
            store.upsert_chunks(chunks)
            entry = DocumentEntry(
                doc.content_hash, _source_of(doc), doc.format, [c.id for c in chunks]
            )
            by_hash[doc.content_hash] = doc.name
        if old is not None:
            stale = set(old.chunk_ids) - set(entry.chunk_ids)
            if stale:
                store.delete(sorted(stale))
        manifest.documents[doc.name] = entry
        save_manifest(self.kb.manifest_path, manifest)

    def _remove(self, manifest: Manifest, name: str) -> None:
        entry = manifest.documents.pop(name)
        if entry.chunk_ids:
            self.kb.vector_store.delete(entry.chunk_ids)
        # An alias of the removed document now has to carry the content itself.
        for other, alias in list(manifest.documents.items()):
            if alias.duplicate_of == name:
                alias.duplicate_of = None
                alias.content_hash = ""  # forces a re-index when its file is next seen
        save_manifest(self.kb.manifest_path, manifest)

    def _reconcile(
        self, manifest: Manifest, current: dict[str, LoadedDocument], to_write: list[LoadedDocument]
    ) -> list[LoadedDocument]:
        """After an interrupted run: delete orphan chunks, re-index documents missing chunks."""
        store = self.kb.vector_store
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
                    entry.content_hash = ""  # re-indexed when its file is next given
        return extra

    def _mark_dirty(self, manifest: Manifest) -> None:
        if not manifest.dirty:
            manifest.dirty = True
            save_manifest(self.kb.manifest_path, manifest)

    def _finish(self, manifest: Manifest, report: IndexReport, *, changed: bool) -> None:
        records = [
            KeywordRecord(cid, text, meta) for cid, text, meta in self.kb.vector_store.get_records()
        ]
        expected = manifest.chunk_ids()
        if {r.id for r in records} != expected:
            # Cannot happen after the steps above; refuse to publish an inconsistent index.
            raise DataDirError(
                f"The vector store in {self.settings.data_dir} disagrees with the manifest; "
                "run `survey-assistant index --rebuild`."
            )
        self.kb.keyword_index.build(manifest.fingerprint(), records)
        manifest.dirty = False
        save_manifest(self.kb.manifest_path, manifest)
        self._count(manifest, report)

    @staticmethod
    def _count(manifest: Manifest, report: IndexReport) -> None:
        report.documents = len(manifest.documents)
        report.chunks = sum(len(e.chunk_ids) for e in manifest.documents.values())


def _source_of(doc: LoadedDocument) -> str:
    return str(Path(doc.source).resolve())


def _alias_broken(manifest: Manifest, entry: DocumentEntry, removed: list[str]) -> bool:
    return entry.duplicate_of is not None and (
        entry.duplicate_of in removed or entry.duplicate_of not in manifest.documents
    )


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

    def __init__(self, data_dir: Path):
        self.data_dir = data_dir

    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type, exc, tb) -> bool:
        if exc is None or isinstance(exc, AssistantError):
            return False
        if isinstance(exc, OSError):
            raise _data_dir_error(self.data_dir, exc) from exc
        if type(exc).__module__.startswith("chromadb"):
            raise DataDirError(
                f"Writing the vector store in {self.data_dir} failed ({type(exc).__name__}); check free "
                "disk space and permissions, then run the command again (documents indexed before are kept)."
            ) from exc
        return False
