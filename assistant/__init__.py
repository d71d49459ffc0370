"""Survey Assistant: Chinese-first question answering over the AI large-model survey. The
library the edges (``cli``, ``ui``) call; it may import ``index`` and nothing above it.

``from assistant import Assistant`` is cheap: nothing heavy is imported until it is used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .api import Answer, Assistant

__all__ = ["Answer", "Assistant"]


def __getattr__(name: str):
    if name == "Assistant":
        from .api import Assistant

        return Assistant
    if name == "Answer":
        from .answer import Answer

        return Answer
    raise AttributeError(name)
