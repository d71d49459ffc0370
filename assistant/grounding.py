"""A generated answer, sentence by sentence, with only the sentences its passages support.

The model's text arrives in pieces (already sanitised and cited, citations.py). Each sentence is
held until it is complete with its citations, then checked against the passages it cites
(``answer_support.sentence_supported``: every name, number and rare term must be in them or in
the question); a sentence that fails is dropped before anyone sees it. The answer still streams,
one sentence at a time. If nothing is left, the caller abstains.
"""

from __future__ import annotations

import re

from .answer_support import sentence_supported
from .citations import CITATION, cited_numbers, sentence_cut

_SENTENCE_END = re.compile(r"[。！？!?；\n]|\.(?=\s)")
_LIST_MARKER = re.compile(r"^\s*(?:[-*•+]|\d+[.)、])\s*")


class GroundedStream:
    def __init__(self, passages: list[str], question: str, *, never_check=()):
        self._passages = passages
        self._question = question
        self._never = {s.strip() for s in never_check}
        self._buffer = ""
        self.kept = 0  # sentences shown that hold words
        self.dropped: list[str] = []

    def feed(self, piece: str) -> str:
        self._buffer += piece
        out = []
        # An English full stop ends a sentence here too: each is checked on its own.
        while (cut := sentence_cut(self._buffer, _SENTENCE_END)) is not None:
            out.append(self._checked(self._buffer[:cut]))
            self._buffer = self._buffer[cut:]
        return "".join(out)

    def close(self) -> str:
        rest, self._buffer = self._buffer, ""
        return self._checked(rest) if rest else ""

    def _checked(self, sentence: str) -> str:
        words = _LIST_MARKER.sub("", CITATION.sub("", sentence)).strip()
        if not re.search(r"\w", words):
            return sentence
        if words in self._never:  # the abstention message: an answer of its own
            self.kept += 1
            return sentence
        cited = [n for n in cited_numbers(sentence) if 1 <= n <= len(self._passages)]
        support = [self._passages[n - 1] for n in cited] or self._passages
        if sentence_supported(words, support, self._question):
            self.kept += 1
            return sentence
        self.dropped.append(words)
        return ""
