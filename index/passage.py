"""What retrieval returns: a chunk with its calibrated relevance and the signals behind it.

Its own module, so that everything that reads passages (the answer layers, the section window)
needs neither numpy nor Chroma to import it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from langchain_core.documents import Document


@dataclass(frozen=True)
class Passage:
    """A retrieved chunk with its calibrated relevance and the signals behind it."""

    id: str
    document: str
    section: str
    text: str
    score: float
    keyword: float
    dense: float
    metadata: dict = field(default_factory=dict)

    @property
    def is_faq(self) -> bool:
        return self.metadata.get("kind") == "faq"

    def to_source(self) -> dict:
        """The `sources` item of contracts.md."""
        return {
            "id": self.id,
            "document": self.document,
            "section": self.section,
            "text": self.text,
            "score": round(self.score, 4),
        }

    def to_document(self) -> Document:
        """The passage as LangChain's ``Document`` (for the retriever interface)."""
        from langchain_core.documents import Document

        from .faq_vectors import KEY  # the stored FAQ vector is the index's own, not the user's

        meta = {k: v for k, v in self.metadata.items() if k != KEY}
        meta.update(score=self.score, keyword=self.keyword, dense=self.dense)
        return Document(id=self.id, page_content=self.text, metadata=meta)
