"""The answer object returned by the Python API and printed by `ask --json` (contracts.md)."""

from __future__ import annotations

from dataclasses import dataclass, field

from index.retrieval import Passage


@dataclass
class Answer:
    question: str
    text: str
    sources: list[Passage]
    abstained: bool
    rewritten_question: str | None
    backend: str
    timings_ms: dict[str, float] = field(default_factory=dict)
    notices: list[str] = field(default_factory=list)
    from_faq: bool = False

    def to_json(self) -> dict:
        return {
            "question": self.question,
            "rewritten_question": self.rewritten_question,
            "answer": self.text,
            "abstained": self.abstained,
            "sources": [p.to_source() for p in self.sources],
            "backend": self.backend,
            "timings_ms": {k: round(v, 1) for k, v in self.timings_ms.items()},
        }
