"""Which passage sentence supports each sentence of an answer: what the app shows as support.

Each answer sentence with a citation ``[n]`` is matched to the sentence of source ``n`` that
shares most character bigrams with it (a quoted sentence matches itself). The app marks those
sentences in the source cards; Python callers read ``Answer.support``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from index.sentences import split_units

from .citations import CITATION, bigrams, cited_numbers

_ANSWER_SENTENCE = re.compile(r"[^。！？!?\n]+[。！？!?]?(?:\s*\[\d{1,2}\])*")
MIN_SHARED_BIGRAMS = 2


@dataclass(frozen=True)
class SupportLink:
    sentence: str  # the answer's sentence, without citation markers
    source: int  # 1-based number of the cited source
    passage_sentence: str  # the sentence of that source that supports it


def passage_sentences(text: str) -> list[str]:
    return [text[s:e].strip() for s, e in split_units(text, 0, len(text), []) if text[s:e].strip()]


def support_links(answer_text: str, sources: list) -> list[SupportLink]:
    links = []
    units = [passage_sentences(p.text) for p in sources]
    for match in _ANSWER_SENTENCE.finditer(answer_text):
        raw = match.group(0)
        sentence = CITATION.sub("", raw).strip()
        if not sentence:
            continue
        grams = bigrams(sentence)
        for n in dict.fromkeys(cited_numbers(raw)):
            if not 1 <= n <= len(sources) or not units[n - 1]:
                continue
            best = max(units[n - 1], key=lambda u: sum((grams & bigrams(u)).values()))
            if sum((grams & bigrams(best)).values()) >= MIN_SHARED_BIGRAMS:
                links.append(SupportLink(sentence, n, best))
    return links
