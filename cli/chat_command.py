"""`survey-assistant chat`: a terminal session; earlier questions feed follow-up rewriting."""

from __future__ import annotations

import sys

from assistant.conversation import next_history
from assistant.errors import AssistantError, InvalidQuestionError


def run_chat(components, *, llm: str | None) -> int:
    from assistant.api import Assistant

    assistant = Assistant(components=components)
    history: list[str] = []
    print("Survey Assistant — 输入问题，/new 开始新对话，/quit 退出 (type a question, /new, /quit)")
    while True:
        try:
            line = input("你> ")
        except EOFError:
            print()
            return 0
        command = line.strip()
        if command in {"/quit", "/exit", "/q"}:
            return 0
        if command == "/new":
            history.clear()
            print("(新对话 / new chat)")
            continue
        try:
            stream = assistant.stream(line, history, llm=llm)
            pieces = iter(stream)
            first = next(pieces, "")  # validates and retrieves: a bad question gets no "助手>"
            sys.stdout.write("助手> " + first)
            for piece in pieces:
                sys.stdout.write(piece)
                sys.stdout.flush()
            answer = stream.answer
            print()
            if answer.rewritten_question:
                print(f"  (理解为 / understood as: {answer.rewritten_question})")
            for n, source in enumerate(answer.sources, start=1):
                print(f"  [{n}] {source.section} ({source.score:.2f})")
            history = next_history(history, answer)
        except InvalidQuestionError as exc:
            print(f"  {exc}")
        except AssistantError as exc:
            print(f"\n  error: {exc}")
