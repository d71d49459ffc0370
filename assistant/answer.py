"""The one answer contract: what ``Assistant.ask`` returns, what a stream holds, what every edge
(CLI, web app, evaluation, ``ask --json``) reads (contracts.md).

A stream publishes an ``Answer`` twice: once retrieval is done (``done`` False: the question as
understood, what was retrieved and what the model will read, no text yet), and when the
iteration ends (``done`` True), also when the backend failed (``error`` set, ``cut_off`` when it
had written part of the answer). Edges never need anything else from the pipeline.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from index.passage import Passage

TIMING_KEYS = ("retrieve", "generate", "total")


@dataclass(frozen=True)
class PromptPassage:
    """One passage as the answering step read it, numbered ``[n]`` in the prompt: ``text`` is
    what the model was shown (an excerpt about the question, cut to fit its window), ``passage``
    the whole retrieved passage it came from."""

    number: int
    passage: Passage
    text: str
    cut: bool = False


@dataclass
class Answer:
    question: str
    text: str
    # What an answer rests on, as shown: each cited passage cut to its sentences about the
    # question. Empty when the assistant abstained.
    sources: list[Passage]
    abstained: bool
    rewritten_question: str | None
    backend: str
    timings_ms: dict[str, float] = field(default_factory=dict)
    notices: list[str] = field(default_factory=list)
    from_faq: bool = False
    # The model stopped in the middle (its process crashed, was killed or stalled): ``text`` is
    # what it wrote until then.
    cut_off: bool = False
    # Every passage the search returned, best first, with its calibrated 0-1 score (also those
    # below the relevance threshold: "closest passages" when nothing was relevant).
    retrieved: list[Passage] = field(default_factory=list)
    # What the answering step read, in prompt order (empty for a FAQ answer or an abstention
    # before answering).
    evidence: list[PromptPassage] = field(default_factory=list)
    # Why the assistant abstained, in one sentence; None when it answered.
    abstain_reason: str | None = None
    # The backend's error message when it failed (the stream raised it); None otherwise.
    error: str | None = None
    done: bool = True

    @property
    def standalone_question(self) -> str:
        """The question as answered: the rewritten follow-up, or the question itself."""
        return self.rewritten_question or self.question

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
