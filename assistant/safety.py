"""Retrieved text is data, not instructions; answers render without external content.

``neutralise_passage`` removes sentences of a passage that read as instructions to an AI system
(the usual prompt-injection phrasing in Chinese and English) before any backend sees them, so
neither the extractive backend nor a model can repeat or obey them. ``safe_markdown`` removes
images, raw HTML and links to non-http(s) schemes from an answer before it is shown.
"""

from __future__ import annotations

import re

_INJECTION = re.compile(
    r"(ignore|disregard|forget|override)\s+(all\s+|any\s+)?(the\s+)?(previous|prior|above|earlier|preceding|system)"
    r"|(system|developer)\s+prompt|you\s+are\s+now\b|new\s+instructions?|do\s+not\s+follow"
    r"|(print|output|reveal|say|repeat|include)\s+(the\s+)?(following|secret|token|canary|password|code)"
    r"|忽略(之前|以上|上述|前面|先前|所有|全部)|无视(之前|以上|上述|所有)|不要遵守|系统提示|系统指令|提示词"
    r"|新的?指令|你现在是|请(输出|打印|回复|说出)(以下|下面|这个|该)?(内容|口令|令牌|密码|代码)",
    re.IGNORECASE,
)
_SENTENCE = re.compile(r"[^。！？!?\n]*(?:[。！？!?]+|\n|$)")
_IMAGE = re.compile(r"!\[[^\]]*\]\([^)]*\)")
_HTML_TAG = re.compile(r"</?[a-zA-Z][^>]*>")
_BAD_LINK = re.compile(r"\[([^\]]*)\]\((?!https?://)[^)]*\)")
REMOVED = "[…]"


def neutralise_passage(text: str) -> str:
    """The passage with instruction-like sentences replaced by a marker."""
    if not _INJECTION.search(text):
        return text
    parts = []
    for sentence in _SENTENCE.findall(text):
        if sentence and _INJECTION.search(sentence):
            parts.append(REMOVED + ("\n" if sentence.endswith("\n") else ""))
        else:
            parts.append(sentence)
    return "".join(parts)


def safe_markdown(text: str) -> str:
    """Answer text safe to render: no images (no exfiltration through image URLs), no HTML."""
    text = _IMAGE.sub("", text)
    text = _HTML_TAG.sub("", text)
    return _BAD_LINK.sub(r"\1", text)
