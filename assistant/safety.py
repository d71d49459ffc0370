"""Retrieved text is data, not instructions; answers render without external content.

``neutralise_passage`` removes sentences of a passage that read as instructions to an AI system
(instruction_rules.py), and the markup that could load
external content or run script (images, raw HTML, HTML comments), before any backend sees the
passage or it is shown as a source, so neither the extractive backend nor a model can repeat or
obey them. ``safe_markdown`` removes images, raw HTML and links to non-http(s) schemes from an
answer before it is shown; ``MarkdownStreamSanitizer`` does the same for an answer that arrives in
pieces, where one image or tag may be split across several pieces.
"""

from __future__ import annotations

import re
from functools import lru_cache

from .instruction_rules import has_secret_token, holds_instruction, instruction_kind

# A sentence ends at Chinese or exclamation/question marks, a line break, or a full stop that is
# followed by white space (so "v1.0" and "example.com" stay whole).
_SENTENCE = re.compile(r"[^。！？!?\n]*?(?:[。！？!?]+|\.(?=\s)|\n|$)")
# A link target may hold one level of parentheses ("javascript:alert('x')").
_TARGET = r"\((?:[^()]|\([^()]*\))*\)"
_IMAGE = re.compile(r"!\[[^\]]*\]" + _TARGET + r"|!\[[^\]]*\]\[[^\]]*\]")
_REFERENCE_DEFINITION = re.compile(r"^[ \t]{0,3}\[[^\]]+\]:[ \t]*\S+.*$", re.MULTILINE)
_HTML_COMMENT = re.compile(r"<!--.*?(?:-->|$)", re.DOTALL)
_SCRIPT_BLOCK = re.compile(
    r"<(script|style|iframe|object|embed|svg|math|template)\b[^>]*>.*?(?:</\1\s*>|$)",
    re.IGNORECASE | re.DOTALL,
)
_HTML_TAG = re.compile(r"</?[a-zA-Z][^>]*>")
_BAD_LINK = re.compile(r"\[([^\]]*)\](?=\()(?!\(\s*<?https?://)" + _TARGET)
REMOVED = "[…]"


@lru_cache(maxsize=4096)
def neutralise_passage(text: str) -> str:
    """The passage with instruction-like sentences (instruction_rules.py) replaced by a marker
    and active markup removed; where a passage holds an instruction, sentences with the
    secret-looking tokens it may refer to (an order split over two sentences) go too.

    Cached: the same passages come back question after question, and the rules cost about a
    millisecond per passage that holds something that looks like an order."""
    text = _strip_markup(text)
    if not holds_instruction(text):
        return text
    sentences = _SENTENCE.findall(text)
    flagged = [bool(s) and instruction_kind(s) is not None for s in sentences]
    parts = []
    for sentence, is_order in zip(sentences, flagged, strict=True):
        if is_order or (sentence and has_secret_token(sentence)):
            parts.append(REMOVED + ("\n" if sentence.endswith("\n") else ""))
        else:
            parts.append(sentence)
    return "".join(parts)


def _strip_markup(text: str) -> str:
    text = _HTML_COMMENT.sub("", text)
    text = _SCRIPT_BLOCK.sub("", text)
    text = _IMAGE.sub("", text)
    text = _REFERENCE_DEFINITION.sub("", text)
    text = _HTML_TAG.sub("", text)
    return _BAD_LINK.sub(r"\1", text)


def safe_markdown(text: str) -> str:
    """Answer text safe to render: no images (no exfiltration through image URLs), no HTML, no
    script, no links to other schemes than http(s)."""
    return _strip_markup(text)


# Where a construct that safe_markdown would remove may have begun but not yet ended: an unclosed
# tag, a "!" or "[…]" at the very end (the next piece may make it an image or a link), an unclosed
# bracket or link target, or a last line that may become a reference definition.
_OPEN_CONSTRUCT = re.compile(
    r"<[^>]*\Z"
    r"|!\Z"
    r"|!?\[[^\]]*\Z"
    r"|!?\[[^\]]*\]\Z"
    r"|!?\[[^\]]*\]\((?:[^()]|\([^()]*\))*(?:\([^()]*)?\Z"
    r"|!\[[^\]]*\]\[[^\]]*\]?\Z"
    r"|(?:^|(?<=\n))[ \t]{0,3}(?:\[[^\n]*)?\Z"
)


class MarkdownStreamSanitizer:
    """``safe_markdown`` for text that arrives in pieces: ``feed`` returns the part that is safe
    to show now, holding back a possibly unfinished image, tag or link; ``close`` returns the rest.
    The pieces returned, joined, equal ``safe_markdown`` of the whole text."""

    def __init__(self) -> None:
        self._raw = ""
        self._shown = ""

    def feed(self, piece: str) -> str:
        self._raw += piece
        safe = safe_markdown(self._raw)
        match = _OPEN_CONSTRUCT.search(safe)
        ready = safe[: match.start()] if match else safe
        return self._advance(ready)

    def close(self) -> str:
        return self._advance(safe_markdown(self._raw))

    def _advance(self, ready: str) -> str:
        if not ready.startswith(self._shown) or len(ready) <= len(self._shown):
            return ""
        new = ready[len(self._shown) :]
        self._shown = ready
        return new
