"""The rewrite step of the chain: a follow-up made a standalone question, the same for every
backend. The heuristic rewriter (followup.py) is exact for the common forms; a backend's model
is asked only when the heuristic found nothing and the question is short enough to be an
elliptical follow-up ("那GPT呢？")."""

from __future__ import annotations

from .followup import rewrite_followup

# Longer questions carry their own subject; asking a model to rewrite them only risks a change.
MODEL_REWRITE_MAX_CHARS = 20


def standalone_question(question: str, history: list[str], backend) -> str | None:
    """The rewritten question, or None when ``question`` already stands alone."""
    if not history:
        return None
    heuristic = rewrite_followup(question, history)
    if heuristic or len(question) > MODEL_REWRITE_MAX_CHARS:
        return heuristic
    return backend.model_rewrite(question, history)
