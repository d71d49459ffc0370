"""How a passage is shown to a model: numbered, and fenced as quoted data.

Everything that came from a document (the section heading and the text) sits between
``<passage>`` and ``</passage>``; only the number, which the assistant assigns, is outside. The
system prompt tells the model that what is inside a fence is data, never instructions. A fence
tag inside the document's own text is defused (its ``<`` becomes ``‹``), so a document cannot
close its fence early and write text that would read as the assistant's own.
"""

from __future__ import annotations

import re

OPEN = "<passage>"
CLOSE = "</passage>"
CUT = "…"
_FENCE_TAG = re.compile(r"<(\s*/?\s*passage)", re.IGNORECASE)


def defuse(text: str) -> str:
    return _FENCE_TAG.sub(r"‹\1", text)


def fence(number: int, heading: str, body: str, *, cut: bool = False) -> str:
    """The block for passage ``number``; ``cut`` marks a body shortened to fit the window."""
    inner = defuse(f"{heading}\n{body}".strip()) + (CUT if cut else "")
    return f"[{number}]\n{OPEN}\n{inner}\n{CLOSE}"
