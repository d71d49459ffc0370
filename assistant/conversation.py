"""The one history policy: what a conversation remembers of each turn, in every edge.

A follow-up is rewritten against earlier questions (``followup.py``). Each answered turn is
remembered as the question it was answered as, the rewritten follow-up where there was one:
"那GPT呢？" after "BERT有多少参数？" can then be rewritten, where after the raw "它有多少参数？"
it could not. A turn that failed is not remembered.
"""

from __future__ import annotations

from .answer import Answer


def next_history(history: list[str], answer: Answer) -> list[str]:
    """The history to pass with the next question, after ``answer``."""
    if answer.error is not None or not answer.done:
        return list(history)
    return [*history, answer.standalone_question]
