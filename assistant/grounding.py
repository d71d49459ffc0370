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
from .citations import cited_numbers

_SENTENCE_END = re.compile(r"[。！？!?；\n]|\.(?=\s)")
_CITATIONS_AND_SPACE = re.compile(r"[ \t]*(\[\d{1,2}\][ \t]*)*")
_CITATION = re.compile(r"\[\d{1,2}\]")
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
        while True:
            match = _SENTENCE_END.search(self._buffer)
            if not match:
                break
            # The sentence's citations follow its end mark: wait until something else does.
            tail = _CITATIONS_AND_SPACE.match(self._buffer, match.end())
            if tail.end() == len(self._buffer):
                break
            cut = tail.end()
            out.append(self._checked(self._buffer[:cut]))
            self._buffer = self._buffer[cut:]
        return "".join(out)

    def close(self) -> str:
        rest, self._buffer = self._buffer, ""
        return self._checked(rest) if rest else ""

    def _checked(self, sentence: str) -> str:
        words = _LIST_MARKER.sub("", _CITATION.sub("", sentence)).strip()
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
