"""A passage cut into the units an answer quotes: sentences and lines, a list with its introduction.

A line that introduces a list ("…包括：") is kept together with its items, since the list is the
answer to "哪些"; a run of list items without one is marked as a run. Each unit knows its line:
the lines of a passage (list items, definitions such as "Keras：…") state separate facts, the
sentences of one line one thought. Headings are left out (they repeat the section path). A FAQ
record is one unit, its stored answer, read together with its stored question.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from index.passage import Passage
from index.sentences import split_units

from .safety import REMOVED

LIST_ITEM = re.compile(r"^\s*(?:[-*•+]|\d+[.)、]|[（(]?[一二三四五六七八九十]+[、)）])\s*")
_HEADING = re.compile(r"^\s*#{1,6}\s")
MAX_LIST_ITEMS = 12
_WORDS = re.compile(r"\w", re.UNICODE)
# A code fence's marker line ("```python") is markup: quoted alone it answers nothing.
_FENCE_MARK = re.compile(r"^(?:```|~~~)[\w+.-]*$")


@dataclass(frozen=True)
class Unit:
    text: str  # what an answer quotes
    scored: str  # what is matched against the question (a FAQ answer: with its question)
    line: int = 0  # the line of the passage it starts on: sentences of one line make one thought
    # A list item outside any "…：" group: the line of the first item of its run of items, so
    # that an answer to "哪些" can quote the whole list while each item stays its own fact.
    list_run: int | None = None


def _groups(body: str) -> list[tuple[str, int]]:
    spans = split_units(body, 0, len(body), [])
    pieces = [body[s:e] for s, e in spans]
    lines = [body.count("\n", 0, s) for s, _ in spans]
    groups: list[tuple[str, int]] = []
    i = 0
    while i < len(pieces):
        piece, line = pieces[i], lines[i]
        i += 1
        if _HEADING.match(piece):
            continue
        if piece.rstrip().endswith(("：", ":")):
            items = []
            while i < len(pieces) and LIST_ITEM.match(pieces[i]) and len(items) < MAX_LIST_ITEMS:
                items.append(pieces[i])
                i += 1
            if items:
                piece = piece + "\n" + "\n".join(items)
        groups.append((piece, line))
    return groups


def passage_units(passage: Passage) -> list[Unit]:
    """The passage's units in document order."""
    if passage.is_faq and passage.metadata.get("answer"):
        answer = str(passage.metadata["answer"]).strip()
        if answer in passage.text:  # the stored answer, unless neutralising changed the passage
            return [Unit(answer, f"{passage.metadata.get('question', '')}\n{answer}")]
    units = []
    run: int | None = None
    for group, line in _groups(passage.text):
        item = "\n" not in group and bool(LIST_ITEM.match(group))
        run = (line if run is None else run) if item else None
        # Removed instructions ("[…]") and lone symbols are nothing to quote.
        for part in group.split(REMOVED):
            part = part.strip()
            if _WORDS.search(part) and not _FENCE_MARK.match(part):
                units.append(Unit(part, part, line, run))
    return units
