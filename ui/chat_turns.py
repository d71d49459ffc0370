"""One chat turn, without Gradio: validate, stream the answer, then show citations and timings.

The per-session state is a plain dict held by ``gr.State`` (one copy per browser session):
``{"messages": [...Chatbot messages...], "turns": [...earlier questions, oldest first...]}``, the
turns kept by the assistant's one history policy (``assistant.conversation``).
Nothing about a user is kept anywhere else.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass

from assistant.api import Assistant
from assistant.conversation import next_history
from assistant.errors import AssistantError, InvalidQuestionError

from . import chat_view

log = logging.getLogger(__name__)
THINKING = "…"
CLOSEST_NOTE = "相关度低于阈值，仅供参考 · Below the relevance threshold, shown for reference"


def new_session() -> dict:
    return {"messages": [], "turns": []}


@dataclass
class TurnView:
    """What the page shows after each step of a turn."""

    session: dict
    sources_html: str | None  # None: leave the panel as it is
    details: str | None
    notice: str = ""  # a one-line message for a toast


def run_turn(
    assistant: Assistant,
    question: str,
    session: dict,
    *,
    llm: str | None = None,
    top_k: int | None = None,
    temperature: float | None = None,
) -> Iterator[TurnView]:
    """Stream one answer into a copy of the session; the last view holds the finished turn."""
    messages = list(session.get("messages", []))
    turns = list(session.get("turns", []))
    stream = assistant.stream(
        question, turns or None, llm=llm, top_k=top_k, temperature=temperature
    )
    try:
        pieces = iter(stream)
        first = next(pieces, None)  # validation and retrieval happen before the first piece
    except InvalidQuestionError as exc:
        yield TurnView(dict(session), None, None, notice=str(exc))
        return
    except Exception as exc:
        yield _failed(messages, turns, question, exc, stream=stream)
        return

    messages += [chat_view.user_message(question), {"role": "assistant", "content": THINKING}]
    begun = stream.answer  # retrieval is done: the question as understood, what the model reads
    head = chat_view.rewritten_note(begun.rewritten_question if begun else None)
    text = first or ""
    retrieved = chat_view.sources_panel(
        [p.passage for p in begun.evidence] if begun else [],
        title="检索到的段落 Retrieved passages",
        note="正在生成回答… · Generating the answer…",
    )
    yield _view(messages, turns, head + chat_view.inert(text) + " ▌", retrieved)
    try:
        for piece in pieces:
            text += piece
            yield _view(messages, turns, head + chat_view.inert(text) + " ▌", retrieved)
    except Exception as exc:
        yield _failed(messages[:-2], turns, question, exc, stream=stream, partial=text)
        return

    answer = stream.answer
    messages[-1] = {"role": "assistant", "content": chat_view.answer_message(answer)}
    new_session = {"messages": messages, "turns": next_history(turns, answer)}
    if answer.abstained:
        sources = chat_view.sources_panel(
            answer.retrieved, title="最接近的段落 Closest passages", note=CLOSEST_NOTE
        )
    else:
        sources = chat_view.sources_panel(answer.sources, support=answer.support)
    details = chat_view.timings_line(answer.timings_ms, answer.backend, answer.notices)
    yield TurnView(new_session, sources, details)


def _view(messages, turns, content, sources_html) -> TurnView:
    messages[-1] = {"role": "assistant", "content": content}
    session = {"messages": list(messages), "turns": list(turns)}
    return TurnView(session, sources_html, "正在生成… · Generating…")


def _failed(messages, turns, question, exc: Exception, *, stream, partial: str = "") -> TurnView:
    """The question stays visible with the error under it, after the part of the answer written
    before the failure (marked as cut off); a backend failure still shows what was retrieved.
    The failed question is not added to the follow-up history."""
    if isinstance(exc, AssistantError):
        message = str(exc)
    else:
        log.exception("chat turn failed")
        message = f"Unexpected error ({type(exc).__name__}); see the server log for details."
    answer = stream.answer if stream is not None else None
    rewritten = answer.rewritten_question if answer is not None else None
    shown = [
        *messages,
        chat_view.user_message(question),
        {
            "role": "assistant",
            "content": chat_view.error_message(message, rewritten=rewritten, partial=partial),
        },
    ]
    if answer is not None and answer.error is not None and answer.sources:
        sources = chat_view.sources_panel(
            answer.sources,
            title="检索到的段落 Retrieved passages",
            note="回答后端出错，以下是检索到的内容 · The answering backend failed; these were retrieved",
        )
    else:
        sources = chat_view.EMPTY_SOURCES
    return TurnView({"messages": shown, "turns": list(turns)}, sources, "", notice=message)
