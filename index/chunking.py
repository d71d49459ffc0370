"""Heading- and sentence-aware chunking of Chinese and English documents.

Every chunk is an exact slice of ``doc.text`` (``doc.text[start:end] == page_content``). Taken in
order of position, chunks have non-decreasing starts and together cover every non-space character
of the document, except a Markdown document's YAML front matter (metadata, skipped); with overlap
their ranges may overlap. The section path is prefixed to the body when a chunk is embedded
(``indexed_text``), so size limits are checked on that prefixed text.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from langchain_core.documents import Document

from index.documents import (
    SECTION_SEPARATOR,
    FAQRecord,
    LoadedDocument,
    chunk_id,
    indexed_text,
)
from index.headings import Span, find_faq_pairs, parse_structure
from index.sentences import split_clauses, split_lines, split_units
from index.tokens import count_tokens, token_prefix_length

MIN_MAX_TOKENS = 16  # below this a section path and one rare character may not fit together

# A unit this many characters per allowed token is certainly too long: split it without counting
# (cl100k takes seconds on a megabyte-long word, and splitting a unit that fits is harmless).
_SURELY_OVER_CHARS_PER_TOKEN = 12


@dataclass(frozen=True)
class _Spec:
    start: int
    end: int
    section: str
    record: FAQRecord | None = None


def chunk_document(
    doc: LoadedDocument,
    *,
    max_tokens: int,
    min_tokens: int = 40,
    overlap_sentences: int = 1,
    fits: Callable[[str], bool] | None = None,
) -> list[Document]:
    """Cut ``doc`` into chunks of at most ``max_tokens`` cl100k tokens of ``indexed_text``.

    ``fits`` is the embedder's own window check on the indexed text; every chunk satisfies it too.
    Chunks never cross a heading; within a section they end at sentence or line ends, and a
    sentence is cut (at commas, then at token boundaries) only when it alone is too long.
    """
    if max_tokens < MIN_MAX_TOKENS:
        raise ValueError(f"max_tokens must be at least {MIN_MAX_TOKENS}, got {max_tokens}")
    if min_tokens < 0 or overlap_sentences < 0:
        raise ValueError("min_tokens and overlap_sentences must not be negative")
    limits = _Limits(max_tokens, min_tokens, overlap_sentences, fits)
    if doc.format == "faq" and doc.faq_records:
        specs = _faq_document_specs(doc, limits)
    else:
        specs = _structured_specs(doc, limits)
    return [_to_document(doc, position, spec) for position, spec in enumerate(specs)]


def extract_faq_records(doc: LoadedDocument) -> list[FAQRecord]:
    """Question/answer records of a FAQ document, or of a document's FAQ sections (``Q:``/``问：``
    lines followed by ``A:``/``答：`` under a heading naming 常见问题, 问题与解答, FAQ or 问答)."""
    if doc.format == "faq":
        return list(doc.faq_records)
    structure = parse_structure(doc.text, doc.format)
    return [
        FAQRecord(pair.question, pair.answer, SECTION_SEPARATOR.join(section.path))
        for section in structure.sections
        if section.faq
        for pair in find_faq_pairs(doc.text, section.body, structure)
    ]


@dataclass(frozen=True)
class _Limits:
    max_tokens: int
    min_tokens: int
    overlap: int
    fits: Callable[[str], bool] | None


def _structured_specs(doc: LoadedDocument, limits: _Limits) -> list[_Spec]:
    text = doc.text
    structure = parse_structure(text, doc.format)
    specs: list[_Spec] = []
    for section in structure.sections:
        path = _fitting_section(section.path, limits)
        packer = _Packer(text, path, limits)
        # Heading lines open the first chunk of their section, whatever kind it is.
        lead: list[Span] = list(section.heading_spans)
        pos = section.body[0]
        pairs = find_faq_pairs(text, section.body, structure) if section.faq else []
        for pair in [*pairs, None]:
            gap_end = pair.start if pair else section.body[1]
            units = split_units(text, pos, gap_end, structure.fences)
            if units or (pair is None and lead):
                spans = packer.pack(
                    lead + units, overlap=limits.overlap, min_tokens=limits.min_tokens
                )
                specs.extend(_Spec(s, e, path) for s, e in spans)
                lead = []
            if pair is not None:
                record = FAQRecord(pair.question, pair.answer, path)
                question = [(pair.start, pair.question_end)]
                answer = split_units(text, pair.question_end, pair.end, structure.fences)
                spans = packer.pack_whole(lead + question + answer, limits.min_tokens)
                specs.extend(_Spec(s, e, path, record) for s, e in spans)
                lead = []
                pos = pair.end
    return specs


def _faq_document_specs(doc: LoadedDocument, limits: _Limits) -> list[_Spec]:
    """One chunk per record of a FAQ file; text between records that cannot be matched to one
    (there should be none) is chunked as prose so that nothing is lost."""
    text = doc.text
    specs: list[_Spec] = []
    cursor = 0
    for record in doc.faq_records:
        found = text.find(record.question, cursor)
        if found < 0:
            continue
        answer_at = text.find(record.answer, found + len(record.question))
        if answer_at < 0:
            continue
        start = max(cursor, text.rfind("\n", cursor, found) + 1)
        end = answer_at + len(record.answer)
        specs.extend(_prose_specs(text, cursor, start, limits))
        path = _fitting_section(
            tuple(filter(None, record.section.split(SECTION_SEPARATOR))), limits
        )
        packer = _Packer(text, path, limits)
        units = split_units(text, start, end, ())
        specs.extend(
            _Spec(s, e, path, record) for s, e in packer.pack_whole(units, limits.min_tokens)
        )
        cursor = end
    specs.extend(_prose_specs(text, cursor, len(text), limits))
    return specs


def _prose_specs(text: str, start: int, end: int, limits: _Limits) -> list[_Spec]:
    units = split_units(text, start, end, ())
    spans = _Packer(text, "", limits).pack(
        units, overlap=limits.overlap, min_tokens=limits.min_tokens
    )
    return [_Spec(s, e, "") for s, e in spans]


def _fitting_section(parts: Sequence[str], limits: _Limits) -> str:
    """The section path, shortened only if it would take more than half of a chunk's window:
    outermost headings are dropped first, then the innermost is cut (pathological input only)."""
    remaining = list(parts)
    while remaining:
        section = SECTION_SEPARATOR.join(remaining)
        if count_tokens(section + "\n") <= limits.max_tokens // 2 and (
            limits.fits is None or limits.fits(indexed_text(section, section))
        ):
            return section
        if len(remaining) > 1:
            remaining.pop(0)
        else:
            remaining = [remaining[0][: len(remaining[0]) // 2].rstrip()]
            remaining = [part for part in remaining if part]
    return ""


def _to_document(doc: LoadedDocument, position: int, spec: _Spec) -> Document:
    body = doc.text[spec.start : spec.end]
    metadata: dict[str, str | int] = {
        "document": doc.name,
        "section": spec.section,
        "position": position,
        "start": spec.start,
        "end": spec.end,
        "kind": "faq" if spec.record else "text",
    }
    if spec.record is not None:
        metadata["question"] = spec.record.question
        metadata["answer"] = spec.record.answer
    return Document(id=chunk_id(doc.name, position, body), page_content=body, metadata=metadata)


class _Packer:
    """Packs units of one section into chunk spans that fit the limits.

    Each unit's tokens are counted once and summed (plus one per gap, which over-estimates a
    little: cl100k counts are nearly additive at unit boundaries); each finished chunk is then
    counted exactly once, and shrunk only if it is over. This keeps a megabyte-long input linear.
    """

    def __init__(self, text: str, section: str, limits: _Limits) -> None:
        self.text = text
        self.section = section
        self.limits = limits
        self.prefix_tokens = count_tokens(section + "\n") if section else 0
        self.budget = limits.max_tokens - self.prefix_tokens
        self.smallest_rejected = self.budget + 1  # body tokens of the smallest chunk fits refused

    def ok(self, start: int, end: int) -> bool:
        full = indexed_text(self.section, self.text[start:end])
        tokens = count_tokens(full)
        if tokens > self.limits.max_tokens:
            return False
        if self.limits.fits is None or self.limits.fits(full):
            return True
        self.smallest_rejected = min(self.smallest_rejected, tokens - self.prefix_tokens)
        return False

    def learn(self) -> None:
        """After ``fits`` rejected chunks within ``max_tokens``: aim below the smallest rejected.

        The embedder's window is narrower than the token budget for this text; without this,
        every later chunk would be rejected once and binary-searched again."""
        self.budget = max(1, min(self.budget, self.smallest_rejected - 1))

    def pack_whole(self, units: list[Span], min_tokens: int) -> list[Span]:
        """A FAQ record: one chunk if it fits at all, else pieces with the question first."""
        if self.ok(units[0][0], units[-1][1]):
            return [(units[0][0], units[-1][1])]
        return self.pack(units, overlap=0, min_tokens=min_tokens)

    def pack(
        self, units: list[Span], *, overlap: int = 0, min_tokens: int = 0, level: int = 0
    ) -> list[Span]:
        costs = [self._cost(unit) for unit in units]
        chunks: list[Span] = []
        fresh = 0  # first unit not yet in any chunk
        first = 0  # first unit of the chunk being built (< fresh when it repeats an overlap)
        while fresh < len(units):
            if first == fresh and costs[first] > self.budget:
                chunks.extend(self._split(units[fresh], level))
                fresh = first = fresh + 1
                continue
            end, used = first + 1, costs[first]
            while end < len(units) and used + 1 + costs[end] <= self.budget:
                used += 1 + costs[end]
                end += 1
            end = self._verified_end(units, first, end)
            self.learn()
            if end <= fresh:
                if first < fresh:  # the overlap leaves no room for new text: drop it
                    first = fresh
                    continue
                chunks.extend(self._split(units[fresh], level))
                fresh = first = fresh + 1
                continue
            chunks.append((units[first][0], units[end - 1][1]))
            fresh = end
            first = max(end - overlap, first + 1) if overlap else end
        if min_tokens and len(chunks) > 1:
            small = count_tokens(self.text[slice(*chunks[-1])]) < min_tokens
            if small and self.ok(chunks[-2][0], chunks[-1][1]):
                chunks[-2:] = [(chunks[-2][0], chunks[-1][1])]
        return chunks

    def _cost(self, unit: Span) -> int:
        if unit[1] - unit[0] > self.limits.max_tokens * _SURELY_OVER_CHARS_PER_TOKEN:
            return self.budget + 1
        return count_tokens(self.text[unit[0] : unit[1]])

    def _verified_end(self, units: list[Span], first: int, end: int) -> int:
        """Largest ``k <= end`` such that units ``first..k-1`` fit exactly; ``first`` if none."""
        if self.ok(units[first][0], units[end - 1][1]):
            return end
        low, high = first, end - 1
        while low < high:
            middle = (low + high + 1) // 2
            if self.ok(units[first][0], units[middle - 1][1]):
                low = middle
            else:
                high = middle - 1
        return low

    def _split(self, unit: Span, level: int) -> list[Span]:
        """A unit too long on its own: cut at line breaks (code), then at commas, then at tokens."""
        splitters = (split_lines, split_clauses)
        for index in range(level, len(splitters)):
            parts = splitters[index](self.text, *unit)
            if len(parts) > 1:
                return self.pack(parts, level=index + 1)
        return self._token_pieces(unit)

    def _token_pieces(self, unit: Span) -> list[Span]:
        pieces: list[Span] = []
        budget = max(self.budget, 1)
        chars_per_token = 2.0
        pos, end = unit
        while pos < end:
            # Tokenise a window a little longer than one piece, never the whole unit.
            window = int(budget * chars_per_token * 1.25) + 16
            while True:
                stop = min(end, pos + window)
                cut = token_prefix_length(self.text[pos:stop], budget)
                if cut < stop - pos or stop == end:
                    break
                window *= 2
            chars_per_token = max(cut, 1) / budget
            piece_end = pos + max(cut, 1)
            if piece_end < end:  # prefer to end at a space (English words) near the cut
                space = _last_space(self.text, pos + (piece_end - pos) * 3 // 4, piece_end)
                piece_end = space if space > pos else piece_end
            piece_end = _rstrip(self.text, pos, piece_end)
            if not self.ok(pos, piece_end):
                piece_end = _rstrip(self.text, pos, self._longest_ok_prefix(pos, piece_end))
                self.learn()
                budget = self.budget
            pieces.append((pos, piece_end))
            pos = _lstrip(self.text, piece_end, end)
        return pieces

    def _longest_ok_prefix(self, start: int, end: int) -> int:
        """Binary search on characters; at least one character, so the loop always advances."""
        low, high = start + 1, end
        while low < high:
            middle = (low + high + 1) // 2
            if self.ok(start, middle):
                low = middle
            else:
                high = middle - 1
        return low


def _last_space(text: str, start: int, end: int) -> int:
    for index in range(end - 1, start - 1, -1):
        if text[index].isspace():
            return index
    return -1


def _lstrip(text: str, start: int, end: int) -> int:
    while start < end and text[start].isspace():
        start += 1
    return start


def _rstrip(text: str, start: int, end: int) -> int:
    while end > start and text[end - 1].isspace():
        end -= 1
    return end
