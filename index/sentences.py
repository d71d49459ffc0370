"""Cutting a section body into the units that chunks are packed from.

Units are spans ``(start, end)`` of the document text with no surrounding white space. From coarse
to fine: lines (every line, list item, or fenced code block is a unit of its own), sentences
within a line, and clauses within a sentence (used only for a sentence that alone is too long).
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Sequence

Span = tuple[int, int]

# Closing quotes and brackets stay with the sentence or clause they close: 他说：“好。”|下一句
_CLOSERS = "”’」』）)\\]】》〉\"'»"
# ASCII ! ? ; , : end a piece only before white space, the end, or a non-ASCII character (as in
# Chinese text typed with ASCII punctuation): URLs, "a!=b" and "1,000" stay whole.
_ASCII_BREAK = r"(?=[\s" + _CLOSERS + r"]|$|[^\x00-\x7f])"
_SENTENCE_END = re.compile(
    rf"(?:[。！？；]+|…+|[!?;]+{_ASCII_BREAK}|\.(?=[{_CLOSERS}]*(?:\s|$)))[{_CLOSERS}]*"
)
_CLAUSE_END = re.compile(rf"(?:[，、：]+|[,:]+{_ASCII_BREAK})[{_CLOSERS}]*")
_WORD_BEFORE = re.compile(r"[A-Za-z0-9]+$")
# A period after these is not a sentence end (e.g. "e.g. this", "Fig. 3", "Dr. Li").
_ABBREVIATION_WORDS = (
    "etc vs mr mrs ms dr prof fig figs cf al st jr sr inc ltd approx eq eqs sec ch vol p pp dept"
    " univ jan feb mar apr jun jul aug sep sept oct nov dec"
)
_ABBREVIATIONS = frozenset(_ABBREVIATION_WORDS.split())


def split_units(text: str, start: int, end: int, fences: Sequence[Span]) -> list[Span]:
    """Units of ``text[start:end]``: each fenced code block whole, every other line cut into
    sentences."""
    units: list[Span] = []
    pos = start
    fence_index = bisect_right([f[1] for f in fences], start)
    while pos < end:
        fence = fences[fence_index] if fence_index < len(fences) else None
        stop = max(pos, fence[0]) if fence and fence[0] < end else end
        for line in split_lines(text, pos, stop):
            units.extend(split_sentences(text, *line))
        if stop == end or fence is None:
            break
        units.extend(_strip(text, stop, min(fence[1], end)))
        pos = fence[1]
        fence_index += 1
    return units


def split_lines(text: str, start: int, end: int) -> list[Span]:
    units: list[Span] = []
    pos = start
    while pos < end:
        newline = text.find("\n", pos, end)
        stop = end if newline < 0 else newline
        units.extend(_strip(text, pos, stop))
        pos = stop + 1
    return units


def split_sentences(text: str, start: int, end: int) -> list[Span]:
    return _split_after(text, start, end, _SENTENCE_END, check_period=True)


def split_clauses(text: str, start: int, end: int) -> list[Span]:
    return _split_after(text, start, end, _CLAUSE_END, check_period=False)


def _split_after(
    text: str, start: int, end: int, pattern: re.Pattern[str], *, check_period: bool
) -> list[Span]:
    units: list[Span] = []
    piece_start = start
    for match in pattern.finditer(text, start, end):
        if (
            check_period
            and match.group().startswith(".")
            and _is_abbreviation(text, piece_start, match.start())
        ):
            continue
        units.extend(_strip(text, piece_start, match.end()))
        piece_start = match.end()
    units.extend(_strip(text, piece_start, end))
    return units


def _is_abbreviation(text: str, piece_start: int, dot: int) -> bool:
    """Whether the period at ``dot`` belongs to an abbreviation, an initial or a list marker."""
    word = _WORD_BEFORE.search(text, max(piece_start, dot - 12), dot)
    if word is None:
        return False
    token = word.group()
    # Single letters cover initials and "e.g." / "i.e." / "U.S.", whose last part is one letter.
    if token.lower() in _ABBREVIATIONS or (len(token) == 1 and token.isalpha()):
        return True
    # "1." opening a line is a list marker; "in 2023." ends a sentence.
    return token.isdigit() and not text[piece_start : word.start()].strip()


def _strip(text: str, start: int, end: int) -> list[Span]:
    """``[(start, end)]`` narrowed to its non-space characters, or ``[]`` if it is all space."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return [(start, end)] if start < end else []
