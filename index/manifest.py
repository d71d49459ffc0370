"""The manifest: which documents are indexed, by content hash, with their chunk ids.

It is the source of truth for incremental indexing. It is rewritten atomically (temp file, fsync,
rename) after each document, and carries a ``dirty`` flag while a run mutates the stores: a run
that finds the flag set knows the previous one was interrupted and reconciles the stores.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .errors import DataDirError

MANIFEST_VERSION = 1


@dataclass
class DocumentEntry:
    content_hash: str
    source: str
    format: str
    chunk_ids: list[str] = field(default_factory=list)
    duplicate_of: str | None = None  # same content already indexed under another name


@dataclass
class IndexSignature:
    """What built the index; opening it with another signature is refused."""

    embedder: str
    chunk_max_tokens: int
    chunk_min_tokens: int
    chunk_overlap_sentences: int

    def describe(self) -> str:
        return (
            f"embedder '{self.embedder}', chunks of at most {self.chunk_max_tokens} tokens "
            f"(min {self.chunk_min_tokens}, overlap {self.chunk_overlap_sentences})"
        )


@dataclass
class Manifest:
    signature: IndexSignature | None = None
    documents: dict[str, DocumentEntry] = field(default_factory=dict)
    dirty: bool = False
    version: int = MANIFEST_VERSION

    def chunk_ids(self) -> set[str]:
        return {cid for entry in self.documents.values() for cid in entry.chunk_ids}

    def alias_broken(
        self, entry: DocumentEntry, removed: list[str], original_now: str | None
    ) -> bool:
        """Whether an alias no longer stands for its own content: its original is gone, or is
        (or is about to be: ``original_now`` is the content hash of its file as loaded in this
        run) indexed with other content."""
        if entry.duplicate_of is None:
            return False
        original = self.documents.get(entry.duplicate_of)
        if original is None or entry.duplicate_of in removed:
            return True
        if original.duplicate_of is not None or original.content_hash != entry.content_hash:
            return True
        return original_now is not None and original_now != entry.content_hash

    def detach_aliases(self, name: str) -> None:
        """Aliases of ``name`` lose their original: each is indexed from its own file when that
        file is next given (in this run, if it is part of it)."""
        for alias in self.documents.values():
            if alias.duplicate_of == name:
                alias.duplicate_of = None
                alias.content_hash = ""

    def fingerprint(self) -> str:
        """Identifies the set of chunks; the keyword index stores it to prove it is current."""
        import hashlib

        digest = hashlib.sha256()
        for cid in sorted(self.chunk_ids()):
            digest.update(cid.encode())
        return digest.hexdigest()[:24]


def load_manifest(path: Path) -> Manifest:
    if not path.exists():
        return Manifest()
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        signature = IndexSignature(**raw["signature"]) if raw.get("signature") else None
        documents = {name: DocumentEntry(**entry) for name, entry in raw["documents"].items()}
        return Manifest(signature, documents, bool(raw.get("dirty")), int(raw.get("version", 1)))
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:  # e.g. a JSON list
        raise DataDirError(
            f"The index manifest {path} is unreadable or corrupt; run `survey-assistant index --rebuild`."
        ) from exc


def save_manifest(path: Path, manifest: Manifest) -> None:
    data = {
        "version": manifest.version,
        "dirty": manifest.dirty,
        "signature": asdict(manifest.signature) if manifest.signature else None,
        "documents": {name: asdict(entry) for name, entry in sorted(manifest.documents.items())},
    }
    write_atomic(path, json.dumps(data, ensure_ascii=False, indent=1).encode("utf-8"))


def write_atomic(path: Path, payload: bytes) -> None:
    """Replace ``path`` with ``payload`` so that a crash leaves either the old or the new file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
