"""How answers, citations and timings are shown: text for the Chatbot, HTML for the sources panel.

The Chatbot renders Markdown, so everything that comes from an answer or a user is made inert
first: answers go through ``safe_markdown`` (no images, no HTML, no odd link schemes) and every
``<`` is escaped, so nothing in a message can become markup or load an external resource. The
sources panel is HTML built here with every piece of text escaped.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence

from assistant.safety import safe_markdown

SNIPPET_CHARS = 140
_HEADING_LINE = re.compile(r"^\s{0,3}#{1,6}\s+.*$", re.MULTILINE)
_SPACES = re.compile(r"\s+")
_STAGES = (
    ("rewrite", "改写 rewrite"),
    ("retrieve", "检索 retrieve"),
    ("generate", "生成 generate"),
)


def inert(text: str) -> str:
    """Text safe to place in a Markdown message: no images, no HTML, nothing that loads."""
    return safe_markdown(text or "").replace("<", "&lt;")


def user_message(question: str) -> dict:
    return {"role": "user", "content": inert(question)}


def snippet(text: str, limit: int = SNIPPET_CHARS) -> str:
    """The start of a passage without its heading lines, on one line."""
    body = _SPACES.sub(" ", _HEADING_LINE.sub(" ", text or "")).strip()
    return body if len(body) <= limit else body[: limit - 1].rstrip() + "…"


def rewritten_note(rewritten: str | None) -> str:
    if not rewritten:
        return ""
    return f"> ↻ 改写为 Rewritten as: **{inert(rewritten)}**\n\n"


def citation_line(passages: Sequence) -> str:
    if not passages:
        return ""
    parts = [f"[{n}] {inert(p.section or p.document)}" for n, p in enumerate(passages, start=1)]
    return "\n\n*来源 Sources：" + " · ".join(parts) + "*"


def answer_message(answer) -> str:
    """The whole assistant message for a finished Answer."""
    text = inert(answer.text)
    head = rewritten_note(answer.rewritten_question)
    if answer.abstained:
        return f"{head}**文档中没有答案 · Not in the documents**\n\n{text}"
    faq = "\n\n*✔ 来自 FAQ 记录 · answered from a stored FAQ answer*" if answer.from_faq else ""
    return f"{head}{text}{citation_line(answer.sources)}{faq}"


CUT_OFF = "（回答中断 · The answer was cut off）"


def error_message(message: str, *, rewritten: str | None = None, partial: str = "") -> str:
    """The error under the question; with ``partial``, the answer written before the failure
    first, marked as cut off."""
    cut = f"{inert(partial)}…\n\n*{CUT_OFF}*\n\n" if partial.strip() else ""
    return f"{rewritten_note(rewritten)}{cut}**⚠ 出错了 · Error**\n\n{inert(message)}"


def _score_bar(score: float) -> str:
    width = max(0, min(100, round(score * 100)))
    return (
        f'<span class="sa-bar" aria-hidden="true"><span style="width:{width}%"></span></span>'
        f'<span class="sa-score" title="relevance 0-1">相关度 {score:.2f}</span>'
    )


def _marked(text: str, sentences: Sequence[str]) -> str:
    """``text`` escaped, with each of ``sentences`` (the support of an answer) in <mark>."""
    spans = sorted(
        {(i, i + len(s)) for s in sentences if s and (i := text.find(s)) >= 0}, key=lambda x: x[0]
    )
    out, pos = [], 0
    for start, end in spans:
        if start < pos:
            continue
        out += [html.escape(text[pos:start]), f"<mark>{html.escape(text[start:end])}</mark>"]
        pos = end
    return "".join(out) + html.escape(text[pos:])


def passage_cards(
    passages: Sequence, *, numbered: bool = True, support: dict[int, list[str]] | None = None
) -> str:
    """One expandable card per passage: number, section path, document, score, snippet, full text.
    ``support`` (source number → its sentences an answer rests on): those are shown as the
    snippet and marked in the full text."""
    cards = []
    support = support or {}
    for n, p in enumerate(passages, start=1):
        number = f'<span class="sa-num">[{n}]</span>' if numbered else ""
        used = support.get(n, [])
        shown = (
            f'<div class="sa-support">支撑 Support：{html.escape(snippet(" … ".join(used)))}</div>'
            if used
            else f'<div class="sa-snippet">{html.escape(snippet(p.text))}</div>'
        )
        cards.append(
            '<details class="sa-card"><summary>'
            f'<div class="sa-head">{number}'
            f'<span class="sa-section">{html.escape(p.section or "—")}</span>'
            f"{_score_bar(float(p.score))}</div>"
            f'<div class="sa-doc">{html.escape(p.document)}</div>'
            f"{shown}"
            "</summary>"
            f'<div class="sa-full">{_marked(p.text, used)}</div></details>'
        )
    return "".join(cards)


def sources_panel(
    passages: Sequence,
    *,
    title: str = "来源 Sources",
    note: str = "",
    support: Sequence = (),
) -> str:
    """The passages as cards; ``support`` (an Answer's support links) marks the sentences the
    answer rests on."""
    if not passages:
        body = f'<div class="sa-empty">{html.escape(note or "没有引用的段落 · No cited passages")}</div>'
        return (
            f'<div class="sa-sources"><div class="sa-title">{html.escape(title)}</div>{body}</div>'
        )
    extra = f'<div class="sa-note">{html.escape(note)}</div>' if note else ""
    return (
        f'<div class="sa-sources"><div class="sa-title">{html.escape(title)} ({len(passages)})</div>'
        f"{extra}{passage_cards(passages, support=_by_source(support))}</div>"
    )


def _by_source(links: Sequence) -> dict[int, list[str]]:
    grouped: dict[int, list[str]] = {}
    for link in links:
        if link.passage_sentence not in grouped.setdefault(link.source, []):
            grouped[link.source].append(link.passage_sentence)
    return grouped


EMPTY_SOURCES = sources_panel([], note="提问后，这里显示引用的段落 · Cited passages appear here")


def timings_line(timings: dict[str, float], backend: str, notices: Sequence[str] = ()) -> str:
    parts = [f"{label} {timings[key]:.0f} ms" for key, label in _STAGES if key in timings]
    if "total" in timings:
        parts.append(f"**总计 total {timings['total']:.0f} ms**")
    line = " · ".join(parts) + f" · 后端 backend: `{html.escape(backend)}`"
    for notice in notices:
        line += f"\n\n注意 Note: {inert(notice)}"
    return line


def chunk_list(chunks: Sequence, *, title: str) -> str:
    """A document's chunks in order, each expandable to its full text."""
    if not chunks:
        return sources_panel(
            [], title=title, note="这个文档没有片段 · This document has no chunks of its own"
        )
    cards = [
        '<details class="sa-card"><summary>'
        f'<div class="sa-head"><span class="sa-num">#{c.position + 1}</span>'
        f'<span class="sa-section">{html.escape(c.section or "—")}</span></div>'
        f'<div class="sa-snippet">{html.escape(snippet(c.text))}</div></summary>'
        f'<div class="sa-full">{html.escape(c.text)}</div></details>'
        for c in chunks
    ]
    return (
        f'<div class="sa-sources"><div class="sa-title">{html.escape(title)} ({len(chunks)})</div>'
        + "".join(cards)
        + "</div>"
    )
