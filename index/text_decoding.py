"""Bytes to text for every text format, and the one-sentence error for a file that cannot be
read: shared by the loaders and by the parsers that run in a child process."""

from __future__ import annotations

import codecs
import re

from .errors import DocumentError

_SAMPLE_CHARS = 65_536
_BOMS = (  # UTF-32 first: its little-endian BOM starts with UTF-16's
    (codecs.BOM_UTF32_LE, "utf-32", "UTF-32"),
    (codecs.BOM_UTF32_BE, "utf-32", "UTF-32"),
    (codecs.BOM_UTF8, "utf-8-sig", "UTF-8"),
    (codecs.BOM_UTF16_LE, "utf-16", "UTF-16"),
    (codecs.BOM_UTF16_BE, "utf-16", "UTF-16"),
)
_ESCAPED_BYTE = re.compile("[\udc80-\udcff]")
_NOT_TEXT = re.compile("[\x00-\x08\x0e-\x1f\x7f\ufffd]")


def file_error(name: str, problem: str) -> DocumentError:
    """One sentence, one line: which file, what is wrong and what to do about it."""
    return DocumentError(f"Cannot index '{' '.join(name.split())}': {problem}.")


def decode_text(data: bytes, name: str) -> str:
    """Decode bytes written by any common editor, Chinese legacy encodings included.

    Order matters: a BOM is decisive; strict UTF-8 is almost never wrong when it succeeds; UTF-8
    with a few bad bytes (a corrupt copy) is kept as UTF-8 so one bad byte does not turn a whole
    document into mojibake; then GB18030 (a superset of GBK/GB2312), then charset-normalizer.
    """
    for bom, codec, label in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(codec)
            except UnicodeDecodeError:
                problem = f"it starts with a {label} byte-order mark but is not valid {label}"
                raise file_error(name, f"{problem}; save it as UTF-8") from None
    sample = data[:_SAMPLE_CHARS]
    if sample.count(0) * 10 <= len(sample):  # NUL-heavy bytes: UTF-16/32 without BOM, or binary
        utf8 = _decode_utf8(data)
        if utf8 is not None:
            if not _is_text(utf8, limit=0.3):
                raise file_error(name, "it looks like binary data, not text; leave it out")
            return utf8
        try:
            decoded = data.decode("gb18030")
            if _is_text(decoded, limit=0.05):
                return decoded
        except UnicodeDecodeError:
            pass
    import charset_normalizer

    best = charset_normalizer.from_bytes(data).best()
    if best is not None and _is_text(str(best), limit=0.05):
        return str(best)
    nuls = sample.count(0)
    if nuls:  # not UTF-16/32 either: say what is wrong rather than blame the encoding
        raise file_error(
            name,
            f"it contains NUL bytes ({nuls} in its first {len(sample)} bytes), which text never "
            "has; save it as UTF-8, or leave it out if it is not a text file",
        )
    raise file_error(name, "its text encoding could not be recognised; save it as UTF-8")


def _decode_utf8(data: bytes) -> str | None:
    """UTF-8, tolerating a few invalid bytes among many valid multi-byte characters.

    GBK text read as UTF-8 is invalid at nearly every Chinese character, so the ratio of bad to
    good non-ASCII bytes tells a damaged UTF-8 file from a legacy-encoded one. Invalid bytes come
    back as lone surrogates, which ``normalize_text`` drops.
    """
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    lenient = data.decode("utf-8", "surrogateescape")
    bad = _ESCAPED_BYTE.subn("", lenient)[1]
    non_ascii = len(data.translate(None, bytes(range(128))))  # the ASCII bytes deleted
    return lenient if bad * 20 <= non_ascii - bad else None


def _is_text(text: str, *, limit: float) -> bool:
    """False when too much of a decoding is control characters: that is binary data."""
    sample = text[:_SAMPLE_CHARS]
    return len(_NOT_TEXT.findall(sample)) <= limit * len(sample)
