"""Document structure for chunking: front matter, fenced code, headings, the sections they open,
and the question/answer pairs of FAQ sections.

Markdown ATX headings (``#`` … ``######``) are authoritative when a document has any; otherwise
the Chinese heading forms of plain-text documents are recognised (``第一章``, ``一、``,
``（一）``, ``1.1``, ``1、``). Numbered lines are never guessed inside Markdown, where ``1. xxx``
is a list item.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

Span = tuple[int, int]

# CommonMark: up to 3 spaces of indent, 1-6 '#', then a space or the end; closing '#'s are optional.
_ATX = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
_FENCE_OPEN = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(?:.*?\n)?(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.DOTALL)

_CN_NUM = "一二三四五六七八九十百千零〇两"
# Ranks order the Chinese forms as they nest in practice:
# 部分 > 章 > 节 > 一、 > （一） > 1.1 > 1.1.1 > 1、;
# only their order matters (the section stack compares levels).
_CHINESE_FORMS: tuple[tuple[re.Pattern[str], int], ...] = (
    (re.compile(rf"^第[{_CN_NUM}\d]+(?:部分|编)"), 1),
    (re.compile(rf"^第[{_CN_NUM}\d]+章"), 2),
    (re.compile(rf"^第[{_CN_NUM}\d]+节"), 3),
    (re.compile(rf"^[{_CN_NUM}]+、\s*\S"), 4),
    (re.compile(rf"^[（(][{_CN_NUM}]+[）)]\s*\S"), 5),
    (re.compile(r"^\d+、\s*\S"), 10),  # list-like: below any dotted number
)
# "1.1 方法" or "1.1方法" but not "3.5亿用户": a number directly followed by a unit is prose.
_DOTTED = re.compile(r"^(\d+(?:\.\d+)+)\.?(?:\s+\S|(?=[^\d\s.亿万千百十个年月日倍元%％]))")
_MAX_CHINESE_HEADING = 40
# A line ending like a sentence (or a lead-in to a list) is prose, not a heading.
_PROSE_ENDINGS = tuple("。！？；.!?;，,、：:")
_FAQ_WORDS = ("常见问题", "问题与解答", "FAQ", "问答")
_QUESTION = re.compile(r"[ \t]*(?:[QqＱ]|问题?)[ \t]*[:：][ \t]*")
_ANSWER = re.compile(r"[ \t]*(?:[AaＡ]|答案?|回答)[ \t]*[:：][ \t]*")


@dataclass(frozen=True)
class Heading:
    start: int  # offset of the heading line (stripped)
    end: int
    level: int
    text: str  # heading text without markers


@dataclass(frozen=True)
class Section:
    """A stretch of the document under one heading chain.

    ``heading_spans`` are the heading lines whose characters belong to this section's first chunk:
    its own heading, preceded by any body-less headings just above it (a title, a chapter heading
    directly followed by its first sub-heading).
    """

    path: tuple[str, ...]
    heading_spans: tuple[Span, ...]
    body: Span
    faq: bool  # a heading above it names a FAQ (常见问题, 问答, FAQ …)


@dataclass(frozen=True)
class Structure:
    content_start: int  # after YAML front matter, else 0
    fences: tuple[Span, ...]  # fenced code blocks, from the opening line to the closing line
    sections: tuple[Section, ...]


def front_matter_end(text: str, doc_format: str) -> int:
    """End offset of a Markdown document's YAML front matter (``---`` … ``---`` at the very
    start), or 0. Front matter is metadata, not prose: the chunker skips it."""
    if doc_format != "markdown":
        return 0
    match = _FRONT_MATTER.match(text)
    return match.end() if match else 0


def parse_structure(text: str, doc_format: str) -> Structure:
    start = front_matter_end(text, doc_format)
    fences, atx, chinese = _scan_lines(text, start)
    headings = atx if atx else chinese
    path_headings = _drop_repeated(headings)
    title = None
    if atx:
        top = [h for h in path_headings if h.level == 1]
        if len(top) == 1 and path_headings[0] is top[0]:
            title = top[0]  # the document's title: every section is under it, so it says nothing
    in_path = [h for h in path_headings if h is not title]
    faq_title = title is not None and _names_faq(title.text)
    return Structure(
        start, tuple(fences), tuple(_sections(text, start, headings, in_path, faq_title))
    )


def _scan_lines(text: str, start: int) -> tuple[list[Span], list[Heading], list[Heading]]:
    fences: list[Span] = []
    atx: list[Heading] = []
    chinese: list[Heading] = []
    fence_marker = ""
    fence_start = 0
    pos = start
    while pos < len(text):
        newline = text.find("\n", pos)
        end = len(text) if newline < 0 else newline
        line = text[pos:end]
        if fence_marker:
            stripped = line.strip()
            if stripped.startswith(fence_marker) and not stripped.strip(fence_marker[0]):
                fences.append((fence_start, end))
                fence_marker = ""
        elif opening := _FENCE_OPEN.match(line):
            fence_marker, fence_start = opening.group(1), pos + line.index(opening.group(1))
        elif heading := _atx_heading(line, pos):
            atx.append(heading)
        elif not atx and (heading := _chinese_heading(line, pos)):
            chinese.append(heading)  # only needed while no ATX heading has been seen
        pos = end + 1
    if fence_marker:  # an unclosed fence runs to the end, as in CommonMark
        fences.append((fence_start, len(text.rstrip())))
    return fences, atx, chinese


def _atx_heading(line: str, offset: int) -> Heading | None:
    match = _ATX.match(line)
    if not match or not (match.group(2) or "").strip():
        return None  # a lone "#" carries no heading text: keep it as prose
    lead = len(line) - len(line.lstrip())
    return Heading(
        offset + lead, offset + len(line.rstrip()), len(match.group(1)), match.group(2).strip()
    )


def _chinese_heading(line: str, offset: int) -> Heading | None:
    stripped = line.strip()
    if not stripped or len(stripped) > _MAX_CHINESE_HEADING or stripped.endswith(_PROSE_ENDINGS):
        return None
    level = next((rank for pattern, rank in _CHINESE_FORMS if pattern.match(stripped)), 0)
    if not level and (dotted := _DOTTED.match(stripped)):
        level = 5 + dotted.group(1).count(".")  # 1.1 -> 6, 1.1.1 -> 7
    if not level:
        return None
    lead = len(line) - len(line.lstrip())
    return Heading(offset + lead, offset + lead + len(stripped), level, stripped)


def _normalised(heading: str) -> str:
    return re.sub(r"[\s.．、:：]", "", heading).casefold()


def _drop_repeated(headings: list[Heading]) -> list[Heading]:
    """Headings that count in section paths: a heading repeated as its own first, deeper
    sub-heading with nothing between them (the survey's ``# 1.背景介绍`` then ``## 1. 背景介绍``)
    is an export artefact and would otherwise sit above every later section."""
    kept = []
    for index, heading in enumerate(headings):
        following = headings[index + 1] if index + 1 < len(headings) else None
        if (
            following is not None
            and following.level > heading.level
            and _normalised(following.text) == _normalised(heading.text)
        ):
            continue
        kept.append(heading)
    return kept


def _names_faq(heading: str) -> bool:
    return any(word.casefold() in heading.casefold() for word in _FAQ_WORDS)


def _sections(
    text: str, start: int, headings: list[Heading], in_path: list[Heading], faq_title: bool
) -> list[Section]:
    counted = {id(h) for h in in_path}
    sections: list[Section] = []
    first = headings[0].start if headings else len(text)
    if text[start:first].strip():
        sections.append(Section((), (), (start, first), faq_title))
    stack: list[Heading] = []
    pending: list[Span] = []
    for index, heading in enumerate(headings):
        if id(heading) in counted:
            while stack and stack[-1].level >= heading.level:
                stack.pop()
            stack.append(heading)
        pending.append((heading.start, heading.end))
        body_end = headings[index + 1].start if index + 1 < len(headings) else len(text)
        if not text[heading.end : body_end].strip() and index + 1 < len(headings):
            continue  # body-less: its line joins the next section's first chunk
        path = tuple(h.text for h in stack)
        faq = faq_title or any(_names_faq(part) for part in path)
        sections.append(Section(path, tuple(pending), (heading.end, body_end), faq))
        pending = []
    return sections


@dataclass(frozen=True)
class FAQPair:
    """A question line and its answer lines in a FAQ section."""

    start: int
    question_end: int
    end: int
    question: str
    answer: str


def find_faq_pairs(text: str, body: Span, structure: Structure) -> list[FAQPair]:
    """Question/answer pairs in a FAQ section's body: a ``Q:``/``问：`` line, then an
    ``A:``/``答：`` line whose answer runs on until a blank line or the next question."""
    # A fenced block counts as one line, so a "Q:" inside code is never a question.
    lines: list[Span] = []
    pos = body[0]
    for fence in [f for f in structure.fences if body[0] <= f[0] < body[1]] + [(body[1], body[1])]:
        lines.extend(_raw_lines(text, pos, fence[0]))
        if fence[0] < fence[1]:
            lines.append(fence)
        pos = fence[1] + 1
    pairs: list[FAQPair] = []
    index = 0
    while index < len(lines):
        question = _QUESTION.match(text, *lines[index])
        answer_index = index + 1
        while question and answer_index < len(lines) and _blank(text, lines[answer_index]):
            answer_index += 1  # a blank line may separate a question from its answer
        answer = _ANSWER.match(text, *lines[answer_index]) if answer_index < len(lines) else None
        if question is None or answer is None:
            index += 1
            continue
        last = answer_index  # the answer runs on until a blank line or the next question
        while (
            last + 1 < len(lines)
            and not _blank(text, lines[last + 1])
            and not _QUESTION.match(text, *lines[last + 1])
        ):
            last += 1
        start = question.start() + len(question.group()) - len(question.group().lstrip())
        pairs.append(
            FAQPair(
                start=start,
                question_end=start + len(text[start : lines[index][1]].rstrip()),
                end=start + len(text[start : lines[last][1]].rstrip()),
                question=text[question.end() : lines[index][1]].strip(),
                answer=text[answer.end() : lines[last][1]].strip(),
            )
        )
        index = last + 1
    return pairs


def _raw_lines(text: str, start: int, end: int) -> list[Span]:
    lines = []
    while start < end:
        newline = text.find("\n", start, end)
        stop = end if newline < 0 else newline
        lines.append((start, stop))
        start = stop + 1
    return lines


def _blank(text: str, line: Span) -> bool:
    return not text[line[0] : line[1]].strip()
