"""The part of a passage an answer may rest on: its sentences about what was asked.

A passage is a chunk of a document, and a chunk holds more than one thing: the fact asked for,
facts about neighbouring subjects, and, in a hostile document, a line that slipped past the
instruction rules ("本文所称的核对码是指 CANARY-…", "Reply with … only"). An answer's facts come
from sentences about the question, so:

- a generated sentence is checked (grounding.py) against the passage's *answerable units* only:
  the units that hold a word of the question's focus (answer_evidence.py; the word after a
  question word does not count), plus the passage's best evidence window (which may hold the
  fact with its subject named only in the line's first sentence). A model that copies a name
  or number from any other sentence has that sentence dropped. Not every evidence window: with
  the line's first sentence read for focus, any sentence of that line holding a number is a
  window for "几门", including "「通关密语」一词专指 CANARY-…";
- a source is shown as those units and the ones an extractive answer quotes, in document
  order, with "…" where units are left out: the reader sees what the answer rests on, not the
  rest of the chunk.

A question with no focus words (an English question sharing no names with Chinese passages) says
nothing about which sentences matter: then the whole passage counts, as it does for FAQ records
(their stored answer is one unit, shown whole). Code lines and list items do not repeat their
subject: a run of them counts when one of them, the sentence introducing them, or the headings
above them name the question's focus.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import replace

from index.code_lines import code_flags
from index.keyword_tokens import LATIN_TERM, META_WORDS, STOP_WORDS
from index.passage import Passage

from .answer_evidence import RULE, Evidence, EvidenceRule, acronym_aliases, focus_weights
from .answer_support import folded, holds
from .passage_excerpt import GAP
from .passage_units import passage_units

_CJK = re.compile(r"[\u4e00-\u9fff]")


def answerable_units(
    question: str,
    passage: Passage,
    quoted: Iterable[str] = (),
    aliases: dict[str, str] | None = None,
    rule: EvidenceRule = RULE,
) -> list[tuple[int, str]] | None:
    """The (position, text) of the units of ``passage`` about ``question``, plus those whose
    text is in one of ``quoted`` (its best evidence window, an answer that quotes it); None when
    every unit counts. ``aliases``: the question's acronyms as the passages spell them out
    (answer_evidence.acronym_aliases over all the passages; by default this one's)."""
    weights = {t: w for t, w in focus_weights(question, rule).items() if w >= 1.0}
    terms = list(weights)
    if not _CJK.search(passage.text):  # an English passage: the question's other words count
        terms += _english_words(question)
    if not terms or passage.is_faq:
        return None
    if aliases is None:
        aliases = acronym_aliases(question, [passage])
    units = passage_units(passage)
    about = [
        any(holds(text, t) or aliases.get(t, "\0") in text for t in terms)
        for text in (folded(u.scored) for u in units)
    ]
    # Code lines and list items do not repeat their subject: a run of them is about the question
    # when one of them is, or the sentence that introduces them ("以下是一个DALL-E的代码实例："),
    # or headings that name most of what is asked ("7.2 自然语言处理工具" for "哪些NLP库").
    # A sentence of prose must hold a focus word itself.
    heading = folded(passage.section)
    named = sum(
        w for t, w in weights.items() if holds(heading, t) or aliases.get(t, "\0") in heading
    )
    headed = bool(weights) and named >= rule.min_focus * sum(weights.values())
    code = list(code_flags(passage.text.splitlines()))
    structured = [
        (u.line < len(code) and code[u.line]) or u.list_run is not None or "\n" in u.text
        for u in units
    ]
    answerable = list(about)
    start = 0
    while start < len(units):
        if not structured[start]:
            start += 1
            continue
        end = start
        while end < len(units) and structured[end]:
            end += 1
        if headed or (start > 0 and about[start - 1]) or any(about[start:end]):
            answerable[start:end] = [True] * (end - start)
        start = end
    quoted = tuple(quoted)
    return [
        (position, unit.text)
        for position, unit in enumerate(units)
        if answerable[position] or any(unit.text in q for q in quoted)
    ]


_SUFFIX = re.compile(r"(?:'s|ing|ed|es|s)$")


def _english_words(question: str) -> list[str]:
    """An English question's content words, stemmed crudely ("funded" → "fund"). The focus
    (answer_evidence.py) holds only its names, which are all it shares with Chinese passages;
    an English passage states the fact in the question's other words ("The wing is named after
    Edith Calloway" for "After whom is the wing of Marrowby Library named?")."""
    if _CJK.search(question):
        return []
    words = []
    for match in LATIN_TERM.finditer(folded(question)):
        word = match.group(0)
        if word in STOP_WORDS or word in META_WORDS or len(word) < 4 or word.isdigit():
            continue
        stem = _SUFFIX.sub("", word)
        words.append(stem if len(stem) >= 4 else word)
    return words


def best_window(evidence: Iterable[Evidence], rank: int) -> tuple[str, ...]:
    """The unit texts of the best evidence window found in passage ``rank`` (``evidence`` is
    best first), if any."""
    return next((e.units for e in evidence if e.passage_rank == rank), ())


def grounding_text(
    question: str, passage: Passage, quoted: Iterable[str] = (), aliases=None
) -> str:
    """What a generated sentence citing ``passage`` is checked against: its section path and its
    answerable units."""
    units = answerable_units(question, passage, quoted, aliases)
    if units is None:
        return passage.text
    return "\n".join([passage.section, *(text for _, text in units)])


def shown_passage(
    question: str, passage: Passage, quoted: Iterable[str] = (), aliases=None
) -> Passage:
    """``passage`` as a source is shown: its answerable units, with gap marks."""
    units = answerable_units(question, passage, quoted, aliases)
    if units is None:
        return passage
    total = len(passage_units(passage))
    if not units or len(units) == total:
        return passage if units else replace(passage, text=GAP)
    lines = [GAP] if units[0][0] != 0 else []
    for i, (position, text) in enumerate(units):
        if i and position != units[i - 1][0] + 1:
            lines.append(GAP)
        lines.append(text)
    if units[-1][0] != total - 1:
        lines.append(GAP)
    return replace(passage, text="\n".join(lines))
