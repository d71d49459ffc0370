"""Small chunks are found, their section is read: a retrieved chunk widened by its neighbours.

A question's vector is matched best against a few sentences (a whole section's mean-pooled vector
blurs them), but answered best from the passage around them: a list or a definition is often
spread over the sentences next to the one that matched. So when chunks are kept small for
finding (``Settings.chunk_max_tokens``), each chunk found can be widened, before anything reads
it, with the chunks beside it in the same section and document, nearest first, until
``max_tokens`` (``Settings.passage_max_tokens``; 0 leaves every chunk as it is). Chunks already
inside a widened passage are not shown again, which frees the slots of the top ``k`` for other
sections. A passage keeps the score of the chunk that matched: scoring the window's words instead
let near misses through (near_miss_dev abstained 0.846 -> 0.808; docs/results.md).

Overlapping chunks (the last sentences of one repeated at the start of the next) are joined by
their character offsets in the document, so nothing is said twice. FAQ records stay as they are:
each is one question and its answer.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from .tokens import count_tokens

if TYPE_CHECKING:
    from .keyword_index import KeywordSnapshot
    from .passage import Passage

Chunk = tuple[str, int, int, str]  # id, start, end, body (KeywordSnapshot.section_chunks)


def window(siblings: list[Chunk], at: int, max_tokens: int) -> list[Chunk]:
    """``siblings[at]`` and its neighbours, nearest first (one after, one before), while they fit
    in ``max_tokens``; in document order."""
    low = high = at
    used = count_tokens(siblings[at][3])
    grew = True
    while grew:
        grew = False
        for side in (high + 1, low - 1):
            if 0 <= side < len(siblings) and not low <= side <= high:
                cost = count_tokens(siblings[side][3])
                if used + cost <= max_tokens:
                    used += cost
                    low, high = min(low, side), max(high, side)
                    grew = True
    return siblings[low : high + 1]


def join(chunks: list[Chunk]) -> str:
    """Bodies in document order, each cut where the previous one ends (the overlap). A chunk that
    starts right where the previous one ends continues it: a long Chinese sentence is cut at a
    comma with no space, and a line break there would split the sentence in two for whatever
    reads the passage. Between chunks with blanks between them, a line break."""
    text, end = "", None
    for _, start, stop, body in chunks:
        joiner = ""
        if end is not None and start < end:
            body = body[min(end - start, len(body)) :]
        elif end is not None and start > end:
            joiner = "\n"
        text += joiner + body
        end = stop if end is None else max(end, stop)
    return text


def widen(
    ranked: list[Passage], snapshot: KeywordSnapshot, k: int, max_tokens: int
) -> list[Passage]:
    """The first ``k`` passages of ``ranked``, each read as its window; a passage already inside
    an earlier one is left out."""
    if max_tokens <= 0:
        return ranked[:k]
    taken: set[str] = set()
    out: list[Passage] = []
    for passage in ranked:
        if len(out) == k:
            break
        if passage.id in taken:
            continue
        taken.add(passage.id)
        siblings = (
            [] if passage.is_faq else snapshot.section_chunks(passage.document, passage.section)
        )
        at = next((i for i, chunk in enumerate(siblings) if chunk[0] == passage.id), None)
        if at is not None:
            chunks = window(siblings, at, max_tokens)
            taken.update(chunk[0] for chunk in chunks)
            if len(chunks) > 1:
                passage = replace(passage, text=join(chunks))
        out.append(passage)
    return out
