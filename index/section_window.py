"""Small chunks are found, their section is read: a retrieved chunk widened by its neighbours.

A question's vector is matched best against a few sentences (a whole section's mean-pooled vector
blurs them), but answered best from the passage around them: a list or a definition is often
spread over the sentences next to the one that matched. So when chunks are kept small for
finding (``Settings.chunk_max_tokens``), each chunk found can be widened, before anything reads
it, with the chunks beside it in the same section and document, nearest first, until
``max_tokens`` (``Settings.passage_max_tokens``; 0 leaves every chunk as it is). Chunks already inside a widened
passage are not shown again, which frees the slots of the top ``k`` for other sections.

Overlapping chunks (the last sentences of one repeated at the start of the next) are joined by
their character offsets in the document, so nothing is said twice. FAQ records stay as they are:
each is one question and its answer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .keyword_index import KeywordSnapshot
    from .retrieval import Passage


# Token counts by chunk id: an id names its content (documents.chunk_id), so a count never goes
# stale. Keyed by id alone so that no chunk text is held here; emptied when it grows past the cap.
_COUNTS: dict[str, int] = {}
_COUNTS_CAP = 200_000


def _tokens(chunk_id: str, body: str, count_tokens: Callable[[str], int]) -> int:
    count = _COUNTS.get(chunk_id)
    if count is None:
        if len(_COUNTS) >= _COUNTS_CAP:
            _COUNTS.clear()
        count = _COUNTS[chunk_id] = count_tokens(body)
    return count


def window(
    snapshot: KeywordSnapshot,
    index: int,
    max_tokens: int,
    count_tokens: Callable[[str], int],
) -> list[int]:
    """Record indices of the window around record ``index``, in document order: itself, then its
    section's neighbours nearest first (one after, one before) while they fit in ``max_tokens``."""
    record = snapshot.records[index]
    meta = record.metadata
    if max_tokens <= 0 or meta.get("kind", "text") != "text":
        return [index]
    siblings = snapshot.section_chunks(meta.get("document", ""), meta.get("section", ""))
    at = next((i for i, (cid, _, _) in enumerate(siblings) if cid == record.id), None)
    if at is None:
        return [index]
    low = high = at
    used = _tokens(*siblings[at][::2], count_tokens)
    while True:
        grew = False
        for side in (high + 1, low - 1):
            if 0 <= side < len(siblings) and not low <= side <= high:
                cost = _tokens(*siblings[side][::2], count_tokens)
                if used + cost <= max_tokens:
                    used += cost
                    low, high = min(low, side), max(high, side)
                    grew = True
        if not grew:
            break
    return [snapshot.by_id[cid] for cid, _, _ in siblings[low : high + 1]]


def _join(parts: list[tuple[int, int, str]]) -> str:
    """Bodies in document order, each cut where the previous one ends (the overlap). A chunk that
    starts right where the previous one ends continues it: a long Chinese sentence is cut at a
    comma with no space, and a line break there would split the sentence in two for whatever
    reads the passage. Between chunks with blanks between them, a line break."""
    text, end = "", None
    for start, stop, body in parts:
        joiner = ""
        if end is not None and start < end:
            body = body[min(end - start, len(body)) :]
        elif end is not None and start > end:
            joiner = "\n"
        text += joiner + body
        end = stop if end is None else max(end, stop)
    return text


def _body(snapshot: KeywordSnapshot, index: int) -> tuple[int, int, str]:
    record = snapshot.records[index]
    meta = record.metadata
    body = record.text[int(meta.get("body_start", 0)) :]
    return int(meta.get("start", 0)), int(meta.get("end", 0)), body


def widen(
    ranked: list[Passage],
    snapshot: KeywordSnapshot,
    windows: dict[str, list[int]],
    k: int,
) -> list[Passage]:
    """The first ``k`` passages of ``ranked``, each read as its window (``windows``: chunk id ->
    record indices from ``window``); a passage already inside an earlier one is left out."""
    taken: set[int] = set()
    out: list[Passage] = []
    for passage in ranked:
        if len(out) == k:
            break
        own = snapshot.by_id.get(passage.id)
        if own in taken:
            continue
        indices = windows.get(passage.id, [own] if own is not None else [])
        taken.update(indices)
        if len(indices) > 1:
            passage = replace(passage, text=_join([_body(snapshot, i) for i in indices]))
        out.append(passage)
    return out
