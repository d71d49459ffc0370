"""The records that flow through indexing: a loaded document, FAQ records, and chunk helpers.

Chunks are LangChain ``Document`` objects (``page_content`` is the chunk's own text, exactly as it
stands in the source document) with this metadata:

- ``document``: the document's name (its path relative to the indexed folder, or its file name)
- ``section``: heading chain above the chunk, outermost first, joined by `` > `` (no ``#`` markers)
- ``position``: 0-based index of the chunk in its document
- ``start`` / ``end``: character offsets of ``page_content`` in the document's normalised text
- ``kind``: ``"text"`` for prose, ``"faq"`` for a question/answer record
- for ``kind == "faq"``: ``question`` and ``answer``
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

SECTION_SEPARATOR = " > "


@dataclass(frozen=True)
class FAQRecord:
    """A stored question with its answer (the survey's FAQ section, or a user's JSONL/CSV file)."""

    question: str
    answer: str
    section: str = ""


@dataclass(frozen=True)
class LoadedDocument:
    """A file read and normalised: ``text`` is what gets chunked (UTF-8, NFC, no NUL/controls, LF)."""

    name: str
    source: str
    format: str  # "markdown" | "text" | "html" | "pdf" | "docx" | "faq"
    text: str
    faq_records: tuple[FAQRecord, ...] = field(default_factory=tuple)

    @property
    def content_hash(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()


def indexed_text(section: str, body: str) -> str:
    """The text that is embedded and keyword-indexed: the section path first, so a heading's
    words find its body."""
    return f"{section}\n{body}" if section else body


def chunk_id(document: str, position: int, body: str) -> str:
    """Deterministic id: the same chunk of the same document always gets the same id, so an
    interrupted run that is repeated upserts instead of duplicating."""
    digest = hashlib.sha256(f"{document}\x00{position}\x00{body}".encode()).hexdigest()
    return digest[:32]
