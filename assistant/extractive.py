"""The extractive backend: answers with the passages' own sentences, cited. No model.

A passage's body is cut into units (sentences and lines); a line that introduces a list
("…包括：") is kept together with its list items, since the list is the answer. Units are scored
by how much of the question's content words they hold, weighted by their passage's relevance, and
the best few are returned in document order with ``[n]`` citations. A FAQ record is one unit, its
stored answer, scored with its question. A question that shares no word with the passages (asked in
another language than the documents) is answered with the opening units of the best passage.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from index.keyword_tokens import keyword_tokens
from index.retrieval import Passage
from index.sentences import split_units

from .language import Language
from .safety import REMOVED

_LIST_ITEM = re.compile(r"^\s*(?:[-*•+]|\d+[.)、]|[（(]?[一二三四五六七八九十]+[、)）])\s*")
_HEADING = re.compile(r"^\s*#{1,6}\s")
MAX_UNITS = 3
MAX_LIST_ITEMS = 12
_WORDS = re.compile(r"\w", re.UNICODE)


@dataclass(frozen=True)
class _Unit:
    passage_rank: int  # 0-based index into the cited passages
    position: int
    text: str
    score: float


def _groups(body: str) -> list[str]:
    """Units of a body, list introductions merged with their items, headings dropped."""
    pieces = [body[s:e] for s, e in split_units(body, 0, len(body), [])]
    groups: list[str] = []
    i = 0
    while i < len(pieces):
        piece = pieces[i]
        i += 1
        if _HEADING.match(piece):
            continue
        if piece.rstrip().endswith(("：", ":")):
            items = []
            while i < len(pieces) and _LIST_ITEM.match(pieces[i]) and len(items) < MAX_LIST_ITEMS:
                items.append(pieces[i])
                i += 1
            if items:
                piece = piece + "\n" + "\n".join(items)
        groups.append(piece)
    return groups


def _units(passage: Passage) -> list[tuple[str, str]]:
    """(text to quote, text to score) of a passage's units."""
    if passage.is_faq and passage.metadata.get("answer"):
        answer = str(passage.metadata["answer"]).strip()
        if answer in passage.text:  # the stored answer, unless neutralising changed the passage
            return [(answer, f"{passage.metadata.get('question', '')}\n{answer}")]
    units = []
    for group in _groups(passage.text):
        # Removed instructions ("[…]") and lone symbols are nothing to quote.
        for part in group.split(REMOVED):
            part = part.strip()
            if _WORDS.search(part):
                units.append((part, part))
    return units


def _coverage(question_tokens: set[str], text: str) -> float:
    if not question_tokens:
        return 0.0
    present = set(keyword_tokens(text))
    return len(question_tokens & present) / len(question_tokens)


def extract_answer(
    question: str, passages: list[Passage], language: Language
) -> tuple[str, list[int]]:
    """The answer text with ``[n]`` citations (n = 1-based rank in ``passages``), and the cited ranks."""
    q_tokens = set(keyword_tokens(question))
    units: list[_Unit] = []
    for rank, passage in enumerate(passages[:MAX_UNITS]):
        section_cover = _coverage(q_tokens, passage.section)
        for position, (text, scored) in enumerate(_units(passage)):
            cover = _coverage(q_tokens, scored)
            # The section path names what the body is about ("7.1 深度学习工具"): count it a little.
            score = (cover + 0.3 * section_cover) * (0.5 + passage.score)
            units.append(_Unit(rank, position, text, score))
    if not units:
        return "", []
    best = max(u.score for u in units)
    if best > 0:
        chosen = [u for u in units if u.score >= 0.75 * best]
        chosen.sort(key=lambda u: -u.score)
    else:  # no shared word (a cross-lingual question): the best passage's opening units
        top = min(u.passage_rank for u in units)
        chosen = [u for u in units if u.passage_rank == top]
    chosen = _distinct(chosen)[:MAX_UNITS]
    chosen.sort(key=lambda u: (u.passage_rank, u.position))
    lines = [f"{u.text.strip()}[{u.passage_rank + 1}]" for u in chosen]
    body = "\n".join(lines)
    cited = sorted({u.passage_rank + 1 for u in chosen})
    if language == "en":
        body = "According to the documents:\n" + body
    return body, cited


def _distinct(units: list[_Unit]) -> list[_Unit]:
    """Units without repeats: overlapping chunks (and repeated list items) hold the same text."""
    seen: set[str] = set()
    kept = []
    for unit in units:
        key = re.sub(r"\s+", "", unit.text)
        if key not in seen:
            seen.add(key)
            kept.append(unit)
    return kept
