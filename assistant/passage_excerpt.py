"""Excerpts of passages for a small local model: the sentences that hold the question's words.

A 0.5B model on two CPU cores reads a prompt at ~10 ms a token, so the passages it is given are
most of a cold answer's time; it also answers better from less text. Each passage is cut to its
units (sentences, a list with its introduction) that share the most (rarest) words with the
question, filled up to a token cap with the units nearest the start, and given in document order.
Code lines are left out unless the question is about code: their identifiers ("BertTokenizer")
share the question's words without answering it, and they cost many tokens. FAQ records, passages
under the cap and passages that share no word with the question (a question in another language)
are given whole.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from index.code_lines import asks_for_code, code_flags
from index.passage import Passage

from .extractive import score_units

GAP = "…"


def passage_body(passage: Passage) -> str:
    """The passage's text without heading lines (they repeat the section path, which small models
    copy into answers)."""
    return "\n".join(
        line
        for line in passage.text.splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    )


def excerpts(
    question: str,
    passages: list[Passage],
    max_tokens: int,
    count_tokens: Callable[[str], int],
) -> list[str]:
    """One body per passage, each at most about ``max_tokens`` (0: whole bodies)."""
    bodies = [passage_body(p) for p in passages]
    if max_tokens <= 0:
        return bodies
    # Scored on the bodies the model would see (no heading lines), so positions match them.
    units = score_units(
        question, [replace(p, text=body) for p, body in zip(passages, bodies, strict=True)]
    )
    keep_code = asks_for_code(question)
    cut = []
    for rank, (passage, body) in enumerate(zip(passages, bodies, strict=True)):
        own = [u for u in units if u.passage_rank == rank]
        # No unit shares a word with the question (asked in another language, or matched by
        # meaning alone): nothing tells which sentences matter, so the passage stays whole.
        evidence = any(u.score > 0 for u in own)
        if passage.is_faq or not evidence or count_tokens(body) <= max_tokens:
            cut.append(body)
            continue
        candidates = own
        if not keep_code:
            flags = list(code_flags(u.text for u in own))
            prose = [u for u, code in zip(own, flags, strict=True) if not code]
            candidates = prose if any(u.score > 0 for u in prose) else own
        cut.append(_excerpt(own, candidates, max_tokens, count_tokens))
    return cut


def _excerpt(
    units: list, candidates: list, max_tokens: int, count_tokens: Callable[[str], int]
) -> str:
    """The ``candidates`` (some of ``units``, the passage's) to show, with gap marks where
    ``units`` are left out."""
    kept, used = [], 0
    # Units that hold question words, best first (there is one: the caller checked); one that
    # does not fit is skipped for smaller ones after it. The best is kept even when it alone is
    # over the cap (a list is the answer).
    for unit in sorted(
        (u for u in candidates if u.score > 0), key=lambda u: (-u.score, u.position)
    ):
        cost = count_tokens(unit.text) + 1
        if kept and used + cost > max_tokens:
            continue
        kept.append(unit)
        used += cost
    # What is left of the cap goes to the passage's opening, its context, in order.
    for unit in (u for u in candidates if u.score <= 0):
        cost = count_tokens(unit.text) + 1
        if used + cost > max_tokens:
            break
        kept.append(unit)
        used += cost
    kept.sort(key=lambda u: u.position)
    lines = [GAP] if kept[0].position != units[0].position else []
    for i, unit in enumerate(kept):
        if i and unit.position != kept[i - 1].position + 1:
            lines.append(GAP)
        lines.append(unit.text.strip())
    if kept[-1].position != units[-1].position:
        lines.append(GAP)
    return "\n".join(lines)
