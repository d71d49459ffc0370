"""Validation of questions and history before anything is retrieved or generated."""

from __future__ import annotations

import re
import unicodedata

from .errors import InvalidQuestionError

_CONTENT = re.compile(r"[\w]", re.UNICODE)


def clean_text(text: str) -> str:
    """Drop control and format characters (keeping newlines), normalise spaces; keeps emoji,
    right-to-left scripts and full-width punctuation as they are."""
    kept = []
    for ch in text:
        category = unicodedata.category(ch)
        if ch in "\n\t":
            kept.append(" ")
        elif category in ("Cc", "Cs") or (category == "Cf" and ch not in "\u200d"):
            continue
        else:
            kept.append(ch)
    return re.sub(r"\s+", " ", "".join(kept)).strip()


def check_question(question: object, *, max_chars: int) -> str:
    """The cleaned question, or InvalidQuestionError with one sentence saying what to fix."""
    if not isinstance(question, str):
        raise InvalidQuestionError("The question must be text; pass a string.")
    cleaned = clean_text(question)
    if not cleaned:
        raise InvalidQuestionError("The question is empty; type a question about the documents.")
    if not _CONTENT.search(cleaned):
        raise InvalidQuestionError(
            "The question has no words, only punctuation or symbols; type a question about the documents."
        )
    if len(cleaned) > max_chars:
        raise InvalidQuestionError(
            f"The question is {len(cleaned)} characters long, over the limit of {max_chars}; "
            "shorten it to the question itself."
        )
    return cleaned


def check_history(history: object, *, max_turns: int, max_chars: int) -> tuple[list[str], bool]:
    """Cleaned earlier user turns (oldest first), trimmed to the newest ``max_turns`` with each
    turn cut to ``max_chars``; the flag says whether anything was trimmed."""
    if history is None:
        return [], False
    if isinstance(history, str) or not all(isinstance(h, str) for h in history):  # type: ignore[union-attr]
        raise InvalidQuestionError("The history must be a list of earlier questions (strings).")
    turns = [clean_text(h) for h in history]  # type: ignore[union-attr]
    turns = [t for t in turns if t]
    trimmed = len(turns) > max_turns or any(len(t) > max_chars for t in turns)
    turns = [t[:max_chars] for t in turns[-max_turns:]] if max_turns else []
    return turns, trimmed
