"""Text normalisation applied to every loaded document before it is chunked.

Later stages (the tokenizer, Chroma's SQLite, JSON output) fail on NUL bytes and lone surrogates,
and offsets into the text must mean the same thing whatever the source platform wrote, so every
document is brought to one form: LF line ends, NFC, no BOM, no invisible characters
(``hidden_text.INVISIBLE``) and no control characters but ``\\n`` and ``\\t``. NFC (not NFKC)
keeps full-width Chinese punctuation such as ``，。：（）`` as written,
because that is how users quote the documents.

Everything here is done with ``str.replace`` / compiled regexes so a 50 MB string takes well
under a second; no per-character Python loop.
"""

from __future__ import annotations

import re
import unicodedata

from .hidden_text import INVISIBLE

# Characters that end a line in Unicode (``str.splitlines`` agrees): kept as a line break rather
# than dropped, so the words on either side of a form feed between PDF pages do not run together.
_LINE_BREAKS = re.compile("[\x0b\x0c\x1c-\x1e\x85\u2028\u2029]")

# C0 controls except \t and \n (line breaks were handled above), DEL, the C1 block, and every
# surrogate code point: in a ``str`` a surrogate can only be a lone one (from surrogateescape or
# surrogatepass decoding), which cannot be encoded as UTF-8.
_UNWANTED = re.compile("[\x00-\x08\x0e-\x1f\x7f-\x9f\ud800-\udfff]")

# Union of the two sets: one scan finds the first character that needs work, so clean text (the
# common case) is scanned once and the text before the first hit is not scanned again.
_NEEDS_WORK = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")


def normalize_text(text: str) -> str:
    """Return ``text`` with leading BOMs removed, line breaks as LF, no NUL/control characters
    or lone surrogates, in Unicode NFC."""
    text = text.lstrip("\ufeff")
    if "\r" in text:  # str.replace is far faster than a regex when there are millions of them
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    first = _NEEDS_WORK.search(text)
    if first is not None:
        start = first.start()
        tail = _UNWANTED.sub("", _LINE_BREAKS.sub("\n", text[start:]))
        text = text[:start] + tail
    if INVISIBLE.search(text):  # zero-width and bidi controls: a hiding place for instructions
        text = INVISIBLE.sub("", text)
    if not unicodedata.is_normalized("NFC", text):
        text = unicodedata.normalize("NFC", text)
    return text
