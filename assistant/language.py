"""Which language a question is in, so the answer (and an abstention) use the same one."""

from __future__ import annotations

import re
from typing import Literal

Language = Literal["zh", "en"]

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LATIN = re.compile(r"[A-Za-z]+")


def detect_language(text: str) -> Language:
    """Chinese when the text has Chinese characters and they are not outweighed by English words
    ("What is 深度学习?" is English; "PyTorch是谁开发的？" is Chinese)."""
    cjk = len(_CJK.findall(text))
    latin_words = len(_LATIN.findall(text))
    if cjk == 0:
        return "en"
    return "zh" if cjk >= latin_words else "en"
