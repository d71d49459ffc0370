"""`survey-assistant ask`: one question, streamed to stdout, sources listed after."""

from __future__ import annotations

import sys

from assistant.errors import BackendError
from assistant.json_output import print_json

CUT_OFF_MARK = "…（回答中断 · answer cut off）"


def run_ask(
    components, question: str, *, history: list[str], as_json: bool, llm: str | None
) -> int:
    from assistant.api import Assistant

    assistant = Assistant(components=components)
    stream = assistant.stream(question, history, llm=llm)
    if as_json:
        for _ in stream:
            pass
        print_json(stream.answer.to_json())
        return 0
    try:
        for piece in stream:
            sys.stdout.write(piece)
            sys.stdout.flush()
    except BackendError:
        if stream.answer is not None and stream.answer.cut_off:
            sys.stdout.write(f"{CUT_OFF_MARK}\n")  # stdout alone still shows it is incomplete
            sys.stdout.flush()
        raise  # the edge prints the one-sentence error on stderr
    answer = stream.answer
    sys.stdout.write("\n")
    if answer.rewritten_question:
        print(f"(standalone question: {answer.rewritten_question})")
    for n, source in enumerate(answer.sources, start=1):
        print(f"[{n}] {source.document} · {source.section} · {source.score:.2f}")
    for notice in answer.notices:
        print(f"note: {notice}", file=sys.stderr)
    return 0
