"""Validation of questions and history before anything is retrieved or generated."""

from __future__ import annotations

import re
import unicodedata

from .errors import InvalidQuestionError

_CONTENT = re.compile(r"[\w]", re.UNICODE)


def clean_text(text: str) -> str:
    """Drop control and format characters (white space becomes one space), normalise spaces;
    keeps emoji, right-to-left scripts and full-width punctuation as they are."""
    kept: list[str] = []
    for ch in text:
        category = unicodedata.category(ch)
        if ch.isspace():  # line breaks, tabs, "\r" and Unicode spaces separate words
            kept.append(" ")
        elif category in ("Cc", "Cs") or (category == "Cf" and ch != "\u200d"):
            continue
        elif ch == "\u200d" and (not kept or unicodedata.category(kept[-1])[0] in "LNZP"):
            continue  # a zero-width joiner only belongs inside an emoji sequence ("👩\u200d💻")
        else:
            kept.append(ch)
    return re.sub(r"\s+", " ", "".join(kept)).strip()


def check_question(question: object, *, max_chars: int) -> str:
    """The cleaned question, or InvalidQuestionError with one sentence saying what to fix."""
    if not isinstance(question, str):
        raise InvalidQuestionError("The question must be text; pass a string.")
    if len(question) > 4 * max_chars:  # far over the limit: refuse before reading it all
        raise _too_long(len(question), max_chars)
    cleaned = clean_text(question)
    if not cleaned:
        raise InvalidQuestionError("The question is empty; type a question about the documents.")
    if not _CONTENT.search(cleaned):
        raise InvalidQuestionError(
            "The question has no words, only punctuation or symbols; type a question about the documents."
        )
    if len(cleaned) > max_chars:
        raise _too_long(len(cleaned), max_chars)
    return cleaned


def _too_long(length: int, max_chars: int) -> InvalidQuestionError:
    return InvalidQuestionError(
        f"The question is {length} characters long, over the limit of {max_chars}; "
        "shorten it to the question itself."
    )


def check_history(history: object, *, max_turns: int, max_chars: int) -> tuple[list[str], bool]:
    """Cleaned earlier user turns (oldest first), trimmed to the newest ``max_turns`` with each
    turn cut to ``max_chars``; the flag says whether anything was trimmed."""
    if history is None:
        return [], False
    if not isinstance(history, list | tuple) or not all(isinstance(h, str) for h in history):
        raise InvalidQuestionError("The history must be a list of earlier questions (strings).")
    turns = [clean_text(h) for h in history]
    turns = [t for t in turns if t]
    trimmed = len(turns) > max_turns or any(len(t) > max_chars for t in turns)
    turns = [t[:max_chars] for t in turns[-max_turns:]] if max_turns else []
    return turns, trimmed
