"""Citations that always map to ``sources``, identical in the stream and the final answer.

A model's answer is re-emitted as it streams: citation numbers that do not exist are dropped, and
a sentence the model left uncited is cited to the passage it overlaps most (character bigrams), so
a small model that forgets to cite still yields a checkable answer.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

CITATION = re.compile(r"\[(\d{1,2})\]")
_SENTENCE_END = re.compile(r"[。！？!?；\n]")
_LEADING_CITATIONS = re.compile(r"^[ \t]*((?:\[\d{1,2}\])+)")
_PARTIAL_CITATION = re.compile(r"\[\d{0,2}$")
_STRIP = re.compile(r"[\W_]+", re.UNICODE)
MIN_OVERLAP = 2


def sentence_cut(buffer: str, end: re.Pattern[str] = _SENTENCE_END) -> int | None:
    """Where the first whole sentence of ``buffer`` ends, its citations included ("…。[2]"), or
    None while it may still grow: no end mark yet, or nothing but citations (possibly half
    written) after it."""
    match = end.search(buffer)
    if not match:
        return None
    rest = buffer[match.end() :]
    if not rest.strip() or re.fullmatch(r"[ \t]*(\[\d{0,2}\]?)*", rest):
        return None
    lead = _LEADING_CITATIONS.match(rest)
    return match.end() + (lead.end() if lead else 0)


def bigrams(text: str) -> Counter:
    chars = _STRIP.sub("", CITATION.sub("", text).lower())
    return Counter(chars[i : i + 2] for i in range(max(len(chars) - 1, 0)))


def cited_numbers(text: str) -> list[int]:
    return [int(n) for n in CITATION.findall(text)]


class CitingStream:
    """Feed model output pieces, get back text with valid citations.

    Text is passed on as it arrives (so the answer still streams); only a citation still being
    written and the white space after the last word are held back, since a missing citation is
    inserted there once the sentence has ended. ``never_cite`` lists sentences (such as the
    abstention message) that must stay exactly as they are.
    """

    def __init__(self, passages: list[str], *, never_cite: Iterable[str] = ()):
        self._count = len(passages)
        self._grams = [bigrams(p) for p in passages]
        self._never = {CITATION.sub("", t).strip() for t in never_cite}
        self._buffer = ""  # the sentence being written
        self._shown = 0  # characters of its repaired text already returned

    def _valid_only(self, text: str) -> str:
        return CITATION.sub(
            lambda m: m.group(0) if 1 <= int(m.group(1)) <= self._count else "", text
        )

    def _cite(self, sentence: str) -> str:
        sentence = self._valid_only(sentence)
        if cited_numbers(sentence) or not self._count:
            return sentence
        if sentence.strip() in self._never:
            return sentence
        grams = bigrams(sentence)
        overlaps = [sum((grams & g).values()) for g in self._grams]
        best = max(range(self._count), key=lambda i: overlaps[i])
        if overlaps[best] < MIN_OVERLAP:
            return sentence
        tail = len(sentence) - len(sentence.rstrip())
        body, ending = sentence[: len(sentence) - tail], sentence[len(sentence) - tail :]
        return f"{body}[{best + 1}]{ending}"

    def _ready(self) -> str:
        """The part of the unfinished sentence that no later repair can change."""
        text = self._buffer
        partial = _PARTIAL_CITATION.search(text)
        if partial:
            text = text[: partial.start()]
        return self._valid_only(text).rstrip()

    def feed(self, piece: str) -> str:
        self._buffer += piece
        out = []
        # What follows a sentence end may be the sentence's own citation: wait for it.
        while (cut := sentence_cut(self._buffer)) is not None:
            out.append(self._cite(self._buffer[:cut])[self._shown :])
            self._buffer, self._shown = self._buffer[cut:], 0
        ready = self._ready()
        if len(ready) > self._shown:
            out.append(ready[self._shown :])
            self._shown = len(ready)
        return "".join(out)

    def close(self) -> str:
        text, shown = self._buffer, self._shown
        self._buffer, self._shown = "", 0
        return (self._cite(text) if text.strip() else text)[shown:]
