"""The extractive backend: answers with the passages' own sentences, cited. No model.

A passage's body is cut into units (sentences and lines); a line that introduces a list
("…包括：") is kept together with its list items, since the list is the answer. Units are scored
by how much of the question's content words they hold, weighted by their passage's relevance, and
the best few are returned in document order with ``[n]`` citations. A FAQ record is one unit, its
stored answer, scored with its question. A question that shares no word with the passages (asked in
another language than the documents) is answered with the opening units of the best passage.
"""

from __future__ import annotations

import math
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


def _weighted_coverage(weights: dict[str, float], tokens: set[str]) -> float:
    total = sum(weights.values())
    return sum(w for t, w in weights.items() if t in tokens) / total if total else 0.0


def score_units(question: str, passages: list[Passage]) -> list[_Unit]:
    """Every unit of the passages, scored by how much of the question it holds (see the module
    docstring), in passage and document order."""
    q_tokens = set(keyword_tokens(question))
    candidates = []  # (rank, position, text, unit tokens, section tokens, passage score)
    for rank, passage in enumerate(passages):
        section_tokens = set(keyword_tokens(passage.section))
        for position, (text, scored) in enumerate(_units(passage)):
            candidates.append(
                (rank, position, text, set(keyword_tokens(scored)), section_tokens, passage.score)
            )
    # A question word found in every unit ("GPT-3" in all of 5.1) tells units apart less than one
    # found in a single line ("engine"): weight question words by their rarity among the units.
    n_units = max(len(candidates), 1)
    weights = {}
    for token in q_tokens:
        df = sum(token in c[3] for c in candidates)
        weights[token] = math.log(1 + (n_units + 1) / (df + 0.5))
    units: list[_Unit] = []
    for rank, position, text, tokens, section_tokens, passage_score in candidates:
        cover = _weighted_coverage(weights, tokens)
        # The section path names what the body is about ("7.1 深度学习工具"): it counts for every
        # unit of the passage, at half weight.
        section_cover = _weighted_coverage(weights, section_tokens - tokens)
        score = (cover + 0.5 * section_cover) * (0.5 + passage_score)
        if "\n" in text:  # a list with its introduction: usually the whole answer to "哪些"
            score *= 1.15
        units.append(_Unit(rank, position, text, score))
    return units


def extract_answer(
    question: str, passages: list[Passage], language: Language
) -> tuple[str, list[int]]:
    """The answer text with ``[n]`` citations (n = 1-based rank in ``passages``), and the cited ranks."""
    units = score_units(question, passages[:MAX_UNITS])
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
