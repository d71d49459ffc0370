"""Text a reader of the document never sees is dropped at load time, before it can be indexed,
retrieved, shown as a source or read by a model: a classic carrier of prompt injection.

- HTML comments and elements hidden by markup (``display:none``, ``visibility:hidden``,
  ``font-size:0``, ``opacity:0``, off-screen positions, clipping, transparent colour, zero
  height or width, the ``hidden`` attribute, ``aria-hidden="true"``, ``sr-only``-style classes), in HTML
  files (``hidden_element``, used by the HTML parser) and in the raw HTML of Markdown and text
  files (``strip_hidden_markup``; fenced code blocks are left as written, since they show markup
  rather than render it);
- invisible characters (zero-width spaces and joiners, word joiner, soft hyphen, bidirectional
  overrides), in every format (``INVISIBLE``, applied by ``normalize_text``).
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

# Zero-width space/non-joiner/joiner, word joiner and invisible operators, a BOM inside the text,
# Mongolian vowel separator, soft hyphen, and the bidirectional embeddings, overrides and isolates.
INVISIBLE = re.compile("[\u200b-\u200d\u2060-\u2064\ufeff\u180e\u00ad\u202a-\u202e\u2066-\u2069]")

_HIDDEN_STYLE = re.compile(
    r"display\s*:\s*none|visibility\s*:\s*hidden|font-size\s*:\s*0(?![.\d]*[1-9])|opacity\s*:\s*0(?![.\d]*[1-9])"
    # moved off the screen, clipped to nothing, or drawn in no colour
    r"|(left|top|right|text-indent|margin-left|margin-top)\s*:\s*-\s*\d{3,}"
    r"|clip\s*:\s*rect\(\s*0[^)]*\)|clip-path\s*:\s*inset\(\s*(50|100)\s*%|color\s*:\s*transparent"
    r"|(^|;)\s*(max-)?(height|width)\s*:\s*0(px)?\s*(;|$)",
    re.IGNORECASE,
)
# The usual names of classes that hide text from sighted readers (screen-reader-only text).
_HIDDEN_CLASS = re.compile(r"(^|\s)(sr-only|visually-hidden|screen-reader-text|hidden)(\s|$)")
_VOID = {
    "area",
    "base",
    "br",
    "col",
    "embed",
    "hr",
    "img",
    "input",
    "link",
    "meta",
    "source",
    "wbr",
}
_FENCE = re.compile(r"^(?:```|~~~).*?^(?:```|~~~)[^\n]*$", re.MULTILINE | re.DOTALL)
_MAYBE_HIDDEN = re.compile(
    r"<!--|hidden|display|visibility|font-size|opacity|left|top|right|indent|margin|clip|color"
    r"|height|width|sr-only",
    re.IGNORECASE,
)


def hidden_element(attrs: dict) -> bool:
    """Whether an element with these attributes is hidden from a reader of the page."""
    if "hidden" in attrs or (attrs.get("aria-hidden") or "").strip().lower() == "true":
        return True
    classes = attrs.get("class") or ""
    if not isinstance(classes, str):  # BeautifulSoup gives a list of class names
        classes = " ".join(classes)
    if _HIDDEN_CLASS.search(classes):
        return True
    return bool(_HIDDEN_STYLE.search(attrs.get("style") or ""))


def strip_hidden_markup(text: str) -> str:
    """``text`` without HTML comments and hidden elements outside fenced code blocks."""
    if not _MAYBE_HIDDEN.search(text):  # the common case: nothing to parse
        return text
    out, last = [], 0
    for fence in _FENCE.finditer(text):
        out.append(_strip(text[last : fence.start()]))
        out.append(fence.group())
        last = fence.end()
    out.append(_strip(text[last:]))
    return "".join(out)


def _strip(text: str) -> str:
    if not _MAYBE_HIDDEN.search(text):
        return text
    finder = _HiddenSpans(text)
    if not finder.spans:
        return text
    kept, last = [], 0
    for start, end in finder.spans:
        if start >= last:
            kept.append(text[last:start])
            last = end
    kept.append(text[last:])
    return "".join(kept)


class _HiddenSpans(HTMLParser):
    """Character spans of comments and hidden elements (an unclosed hidden element runs to the
    end of the text: what it would hide is hidden)."""

    def __init__(self, text: str):
        super().__init__(convert_charrefs=False)
        self.spans: list[tuple[int, int]] = []
        self._line_starts = [0] + [m.end() for m in re.finditer("\n", text)]
        self._text = text
        self._open: list[str] = []  # tags inside the hidden element, its own first
        self._hidden_start = 0
        self.feed(text)
        self.close()
        if self._open:
            self.spans.append((self._hidden_start, len(text)))

    def _offset(self) -> int:
        line, column = self.getpos()
        return self._line_starts[line - 1] + column

    def handle_comment(self, data: str) -> None:
        if not self._open:
            start = self._offset()
            end = self._text.find("-->", start)
            self.spans.append((start, len(self._text) if end < 0 else end + 3))

    def handle_starttag(self, tag: str, attrs) -> None:
        if tag in _VOID:
            return
        if self._open:
            self._open.append(tag)
        elif hidden_element(dict(attrs)):
            self._hidden_start = self._offset()
            self._open = [tag]

    def handle_endtag(self, tag: str) -> None:
        if not self._open or tag not in self._open:
            return
        while self._open and self._open.pop() != tag:
            pass
        if not self._open:
            start = self._offset()
            end = self._text.find(">", start)
            self.spans.append((self._hidden_start, len(self._text) if end < 0 else end + 1))
