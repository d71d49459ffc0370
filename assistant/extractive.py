"""The extractive backend: answers with the passages' own sentences, cited. No model.

A passage's body is cut into units (passage_units.py: sentences and lines, a list with its
introduction, a FAQ record's stored answer). The answer is the window of units that states the
asked fact (answer_evidence.py), the one whose units hold the most of the question's words
weighted by their rarity and by their passage's relevance, with ``[n]`` citations; other windows
are added only when they are as good and come from the same passage, so that an answer is a
sentence or two, not the passage. Without any such window (the check before answering then
abstains, so only a caller that skips it gets here) the best-scored units are quoted; a question
that shares no word with the passages (asked in another language than the documents) is answered
with the opening units of the best passage.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from index.keyword_tokens import keyword_tokens
from index.passage import Passage

from .answer_evidence import Evidence, evidence
from .answer_kinds import asks_for_list
from .language import Language
from .passage_units import MAX_LIST_ITEMS, passage_units

MAX_PASSAGES = 3  # passages quoted from
MAX_UNITS = 2  # units in an answer: a sentence or two (a list with its introduction is one)
# A further window joins the best one if its units score this share of the best one's.
CLOSE_SCORE = 0.5


@dataclass(frozen=True)
class _Unit:
    passage_rank: int  # 0-based index into the cited passages
    position: int
    text: str
    score: float
    list_run: int | None = None  # passage_units.Unit.list_run


def _weighted_coverage(weights: dict[str, float], tokens: set[str]) -> float:
    total = sum(weights.values())
    return sum(w for t, w in weights.items() if t in tokens) / total if total else 0.0


def score_units(question: str, passages: list[Passage]) -> list[_Unit]:
    """Every unit of the passages, scored by how much of the question it holds (see the module
    docstring), in passage and document order."""
    q_tokens = set(keyword_tokens(question))
    candidates = []  # (rank, position, text, unit tokens, section tokens, passage score, run)
    for rank, passage in enumerate(passages):
        section_tokens = set(keyword_tokens(passage.section))
        for position, unit in enumerate(passage_units(passage)):
            text, scored = unit.text, unit.scored
            candidates.append(
                (
                    rank,
                    position,
                    text,
                    set(keyword_tokens(scored)),
                    section_tokens,
                    passage.score,
                    unit.list_run,
                )
            )
    # A question word found in every unit ("GPT-3" in all of 5.1) tells units apart less than one
    # found in a single line ("engine"): weight question words by their rarity among the units.
    n_units = max(len(candidates), 1)
    weights = {}
    for token in q_tokens:
        df = sum(token in c[3] for c in candidates)
        weights[token] = math.log(1 + (n_units + 1) / (df + 0.5))
    units: list[_Unit] = []
    for rank, position, text, tokens, section_tokens, passage_score, run in candidates:
        cover = _weighted_coverage(weights, tokens)
        # The section path names what the body is about ("7.1 深度学习工具"): it counts for every
        # unit of the passage, at half weight.
        section_cover = _weighted_coverage(weights, section_tokens - tokens)
        score = (cover + 0.5 * section_cover) * (0.5 + passage_score)
        if "\n" in text:  # a list with its introduction: usually the whole answer to "哪些"
            score *= 1.15
        units.append(_Unit(rank, position, text, score, run))
    return units


def extract_answer(
    question: str, passages: list[Passage], language: Language
) -> tuple[str, list[int]]:
    """The answer text with ``[n]`` citations (n = 1-based rank in ``passages``), and the cited ranks."""
    considered = passages[:MAX_PASSAGES]
    units = score_units(question, considered)
    if not units:
        return "", []
    windows = evidence(question, considered)
    best = max(u.score for u in units)
    if windows:
        chosen = _from_windows(windows, units)
        if asks_for_list(question):
            chosen = _whole_lists(chosen, units)
    elif best > 0:
        chosen = [u for u in units if u.score >= 0.75 * best]
        chosen.sort(key=lambda u: -u.score)
    else:  # no shared word (a cross-lingual question): the best passage's opening units
        top = min(u.passage_rank for u in units)
        chosen = [u for u in units if u.passage_rank == top]
    # Evidence windows are already bounded (a whole list may be the answer); the rest is cut.
    chosen = _distinct(chosen) if windows else _distinct(chosen)[:MAX_UNITS]
    chosen.sort(key=lambda u: (u.passage_rank, u.position))
    lines = [f"{u.text.strip()}[{u.passage_rank + 1}]" for u in chosen]
    body = "\n".join(lines)
    cited = sorted({u.passage_rank + 1 for u in chosen})
    if language == "en":
        body = "According to the documents:\n" + body
    return body, cited


def _from_windows(windows: list[Evidence], units: list[_Unit]) -> list[_Unit]:
    """The units of the best window, and of further windows as good from the same passage."""
    by_place = {(u.passage_rank, u.position): u for u in units}

    def members(window: Evidence) -> list[_Unit]:
        return [by_place[(window.passage_rank, p)] for p in range(window.first, window.last + 1)]

    def strength(window: Evidence) -> tuple[float, float, int]:
        return (window.focus, max(u.score for u in members(window)), window.first - window.last)

    ranked = sorted(windows, key=strength, reverse=True)
    top = ranked[0]
    chosen = members(top)
    top_score = strength(top)[1]
    for window in ranked[1:]:
        if window.passage_rank != top.passage_rank or window.focus < top.focus:
            continue
        extra = [u for u in members(window) if u not in chosen]
        if not extra or max(u.score for u in extra) < CLOSE_SCORE * top_score:
            continue
        if len(chosen) + len(extra) > MAX_UNITS:
            break
        chosen += extra
    return chosen


def _whole_lists(chosen: list[_Unit], units: list[_Unit]) -> list[_Unit]:
    """The chosen units with every list item replaced by its whole run of items: "有哪些框架"
    is answered by the list, though each item alone is what states one of them."""
    runs = {(u.passage_rank, u.list_run) for u in chosen if u.list_run is not None}
    if not runs:
        return chosen
    whole = [u for u in units if (u.passage_rank, u.list_run) in runs][:MAX_LIST_ITEMS]
    return whole + [u for u in chosen if u.list_run is None and u not in whole]


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
