"""`survey-assistant ask`: one question, streamed to stdout, sources listed after."""

from __future__ import annotations

import sys

from ..cli import print_json


def run_ask(
    components, question: str, *, history: list[str], as_json: bool, llm: str | None
) -> int:
    from ..api import Assistant

    assistant = Assistant(components=components)
    stream = assistant.stream(question, history, llm=llm)
    if as_json:
        for _ in stream:
            pass
        print_json(stream.answer.to_json())
        return 0
    for piece in stream:
        sys.stdout.write(piece)
        sys.stdout.flush()
    answer = stream.answer
    sys.stdout.write("\n")
    if answer.rewritten_question:
        print(f"(standalone question: {answer.rewritten_question})")
    for n, source in enumerate(answer.sources, start=1):
        print(f"[{n}] {source.document} · {source.section} · {source.score:.2f}")
    for notice in answer.notices:
        print(f"note: {notice}", file=sys.stderr)
    return 0
