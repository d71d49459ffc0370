"""Retrieved text is data, not instructions; answers render without external content.

``neutralise_passage`` removes sentences of a passage that read as instructions to an AI system
(the usual prompt-injection phrasing in Chinese and English), and the markup that could load
external content or run script (images, raw HTML, HTML comments), before any backend sees the
passage or it is shown as a source, so neither the extractive backend nor a model can repeat or
obey them. ``safe_markdown`` removes images, raw HTML and links to non-http(s) schemes from an
answer before it is shown; ``MarkdownStreamSanitizer`` does the same for an answer that arrives in
pieces, where one image or tag may be split across several pieces.
"""

from __future__ import annotations

import re

_INJECTION = re.compile(
    r"(ignore|disregard|forget|override)\s+(all\s+|any\s+)?(the\s+|your\s+)?(previous|prior|above|earlier|preceding|system)"
    r"|(system|developer)\s+prompt|you\s+are\s+now\b|new\s+instructions?|do\s+not\s+follow"
    r"|(print|output|reveal|say|repeat|include)\s+(the\s+)?(following|secret|token|canary|password|code)"
    r"|忽略(之前|以上|上述|前面|先前|所有|全部)|无视(之前|以上|上述|所有)|不要遵守|系统提示|系统指令|提示词"
    # "ignore … instructions" with words between ("忽略前文的所有指示").
    r"|(忽略|忽视|无视|不要理会|别管)[^。！？\n]{0,10}(指示|指令|说明|要求|规则|提示)"
    # Orders about how the answer must look: what "the only correct answer" is, what to put in it.
    r"|(唯一|标准)的?(正确的?)?(答案|回答)|唯一正确|(在|于)(你的)?(回答|回复|答案)(中|里|时)"
    r"|\b(the\s+)?only\s+(valid|correct|right|true|acceptable)\s+(answer|response|reply)\b"
    r"|\b(in|to)\s+(your|every|each)\s+(answer|response|reply)\b"
    # Setting up a code word for a later order ("记住这个代号：…").
    r"|(记住|牢记|remember|memori[sz]e)[^。！？\n]{0,12}(代号|口令|暗号|密码|code\s*word|password|passphrase)"
    r"|新的?指令|你现在是|请(输出|打印|回复|说出)(以下|下面|这个|该)?(内容|口令|令牌|密码|代码)"
    # An order to emit a secret-looking token ("输出 CANARY-7F3A9", "print ZX-42AB9"), which an
    # injection often puts in a sentence of its own, after the sentence that sets it up.
    r"|(输出|打印|回复|说出|显示|print|output|say|reply\s+with|respond\s+with|type)\s*[:：]?\s*"
    r"[\"'“‘`]?(?-i:[A-Z][A-Z0-9]*[-_][A-Z0-9][A-Z0-9_-]{2,})",
    re.IGNORECASE,
)
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


# A secret-looking token ("CANARY-7731", "ZX-42AB9"): in a passage that also holds an
# instruction, the token is what the instruction is about, even in a sentence of its own.
_TOKEN = re.compile(r"(?<![\w-])[A-Z][A-Z0-9]*[-_][A-Z0-9]{3,}[A-Z0-9_-]*")


def neutralise_passage(text: str) -> str:
    """The passage with instruction-like sentences replaced by a marker and active markup
    removed; where a passage holds an instruction, sentences with the secret-looking tokens it
    may refer to (an order split over two sentences) go too."""
    text = _strip_markup(text)
    if not _INJECTION.search(text):
        return text
    sentences = _SENTENCE.findall(text)
    flagged = [bool(s) and bool(_INJECTION.search(s)) for s in sentences]
    parts = []
    for sentence, is_order in zip(sentences, flagged, strict=True):
        if is_order or (sentence and _TOKEN.search(sentence)):
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
