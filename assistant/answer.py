"""The answer object returned by the Python API and printed by `ask --json` (contracts.md)."""

from __future__ import annotations

from dataclasses import dataclass, field

from index.passage import Passage

TIMING_KEYS = ("retrieve", "generate", "total")


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
    # The model stopped in the middle (its process crashed, was killed or stalled): ``text`` is
    # what it wrote until then. Set on ``AnswerStream.answer`` before the error is raised.
    cut_off: bool = False

    @property
    def support(self) -> list:
        """For each cited answer sentence, the sentence of its source that supports it."""
        from .support_links import support_links

        return [] if self.abstained else support_links(self.text, self.sources)

    def to_json(self) -> dict:
        return {
            "question": self.question,
            "rewritten_question": self.rewritten_question,
            "answer": self.text,
            "abstained": self.abstained,
            "sources": [p.to_source() for p in self.sources],
            "backend": self.backend,
            # The contract's stages; finer ones (``rewrite``) stay on the Python object.
            "timings_ms": {k: round(self.timings_ms.get(k, 0.0), 1) for k in TIMING_KEYS},
        }
