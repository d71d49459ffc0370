"""Command line: ``survey-assistant …`` and ``python -m assistant …`` (contracts.md).

Exit 0 on success, 2 on bad usage, 1 on other errors. Errors are one sentence on stderr; set
``ASSISTANT_DEBUG=1`` (or pass ``--debug``) to see the traceback as well.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from assistant.errors import AssistantError, UsageError


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # argparse prints usage + exits 2; keep that, in one line
        self.exit(2, f"survey-assistant: {message} (see `survey-assistant --help`)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="survey-assistant", description="Chinese-first Q&A over the AI large-model survey."
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    index = commands.add_parser("index", help="index files or folders (default: corpus/)")
    index.add_argument("paths", nargs="*", type=Path, help="files or folders to index")
    index.add_argument("--rebuild", action="store_true", help="drop the index and start over")
    index.add_argument("--json", action="store_true", help="print the summary as JSON")
    index.add_argument(
        "--follow-links",
        action="store_true",
        help="inside a folder, also index links to files outside it (refused by default)",
    )

    ask = commands.add_parser("ask", help="answer one question")
    ask.add_argument("question")
    ask.add_argument("--history", nargs="*", default=[], help="earlier user turns, oldest first")
    ask.add_argument("--json", action="store_true", help="print the answer object as JSON")
    ask.add_argument(
        "--llm", choices=["extractive", "llamacpp", "openai"], help="answering backend"
    )

    chat = commands.add_parser("chat", help="interactive session with follow-up questions")
    chat.add_argument(
        "--llm", choices=["extractive", "llamacpp", "openai"], help="answering backend"
    )

    serve = commands.add_parser("serve", help="the web app")
    serve.add_argument("--host", default=None, help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=None, help="port (default 7860)")

    evaluate = commands.add_parser("eval", help="evaluate over FAQ pairs (JSONL) or a SQuAD set")
    evaluate.add_argument("file", nargs="?", type=Path, help="JSONL file of FAQ pairs")
    evaluate.add_argument("--squad", type=Path, help="SQuAD-format JSON file")
    evaluate.add_argument("--json", action="store_true", help="print the result object as JSON")
    evaluate.add_argument("--out", type=Path, help="write report.json, report.md and charts here")
    evaluate.add_argument("--baseline", type=Path, help="an earlier report.json to compare with")
    evaluate.add_argument(
        "--llm",
        action="append",
        choices=["extractive", "llamacpp", "openai"],
        help="backend(s) to evaluate (repeatable; default: the configured one)",
    )
    evaluate.add_argument("--limit", type=int, help="evaluate only the first N questions")

    commands.add_parser("doctor", help="check models, index and backends")
    return parser


def entry() -> None:
    """The console script."""
    raise SystemExit(main(quick_exit=True))


# Commands that write nothing of their own once they have answered: the process may end without
# the interpreter's teardown, which frees a loaded model and index page by page (~1 s, a tenth
# of a cold `ask`). Threads that are still working (a model load started for the answer) are
# waited for first, so nothing they write is cut short.
_QUICK_EXIT_COMMANDS = {"ask"}


def _quick_exit(code: int) -> None:
    import threading

    for thread in threading.enumerate():
        if thread is not threading.current_thread() and not thread.daemon:
            thread.join()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def main(argv: list[str] | None = None, *, quick_exit: bool = False) -> int:
    """Run one command; ``quick_exit`` (the console script) lets read-only commands skip the
    interpreter's teardown."""
    args = build_parser().parse_args(argv)
    debug = args.debug or os.environ.get("ASSISTANT_DEBUG", "") not in ("", "0")
    try:
        from pydantic import ValidationError

        from assistant.components import Components
        from assistant.settings import Settings

        try:
            settings = Settings()
        except ValidationError as exc:
            first = exc.errors()[0]
            field = "ASSISTANT_" + str(first["loc"][0]).upper() if first.get("loc") else "a setting"
            raise UsageError(
                f"The setting {field} is invalid ({first['msg']}); fix or unset it."
            ) from exc
        components = Components(settings)
        handler = _COMMANDS[args.command]
        code = handler(components, args)
        if quick_exit and args.command in _QUICK_EXIT_COMMANDS:
            _quick_exit(code)
        return code
    except AssistantError as exc:
        if debug:
            import traceback

            traceback.print_exc()
        print(f"survey-assistant: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("survey-assistant: interrupted.", file=sys.stderr)
        return 130
    except Exception as exc:  # the last edge: never a traceback for users
        if debug:
            raise
        print(
            f"survey-assistant: unexpected error ({type(exc).__name__}: {exc}); "
            "rerun with --debug for details.",
            file=sys.stderr,
        )
        return 1


def _cmd_index(components, args) -> int:
    from .index_command import run_index

    return run_index(
        components,
        args.paths,
        rebuild=args.rebuild,
        as_json=args.json,
        follow_links=args.follow_links,
    )


def _cmd_doctor(components, args) -> int:
    from assistant.doctor import run_doctor

    return run_doctor(components)


def _cmd_ask(components, args) -> int:
    from .ask_command import run_ask

    return run_ask(components, args.question, history=args.history, as_json=args.json, llm=args.llm)


def _cmd_chat(components, args) -> int:
    from .chat_command import run_chat

    return run_chat(components, llm=args.llm)


def _cmd_serve(components, args) -> int:
    from ui.server import serve

    return serve(components, host=args.host, port=args.port)


def _cmd_eval(components, args) -> int:
    from assistant.evaluation.command import run_eval

    return run_eval(components, args)


_COMMANDS = {
    "index": _cmd_index,
    "doctor": _cmd_doctor,
    "ask": _cmd_ask,
    "chat": _cmd_chat,
    "serve": _cmd_serve,
    "eval": _cmd_eval,
}
