"""`survey-assistant eval FILE | --squad FILE.json [--llm B ...] [--limit N] [--json] [--out DIR]
[--baseline report.json]`.

The input file is read and checked before any model is loaded, so a bad file costs nothing.
FAQ pairs are asked over the configured collection (index it first); a SQuAD set over its own
collection, indexed here (``squad_collection``). ``--json`` prints the result object on stdout;
everything else (progress, where the report went) goes to stderr.
"""

from __future__ import annotations

import sys

from ..errors import UsageError
from .dataset import read_faq_pairs, read_squad
from .report import (
    baseline_for,
    load_baseline,
    result_object,
    summary_delta,
    summary_table,
    write_reports,
)
from .runner import run_backend


def run_eval(components, args) -> int:
    if (args.file is None) == (args.squad is None):
        raise UsageError(
            "Give either a JSONL file of FAQ pairs or --squad FILE.json to evaluate (exactly one)."
        )
    if args.limit is not None and args.limit < 1:
        raise UsageError(f"--limit must be at least 1, not {args.limit}.")
    if args.out is not None and args.out.exists() and not args.out.is_dir():
        raise UsageError(f"--out {args.out} is a file; give a folder for the report.")
    baselines = load_baseline(args.baseline) if args.baseline else None
    squad = args.squad is not None
    path = args.squad if squad else args.file
    squad_set = read_squad(path) if squad else None
    items = squad_set.items if squad_set else read_faq_pairs(path)
    if squad_set and squad_set.skipped:
        print(
            f"survey-assistant: skipped {len(squad_set.skipped)} question(s) without text in "
            f"{path} ({', '.join(squad_set.skipped[:3])}).",
            file=sys.stderr,
        )
    if args.limit:
        items = items[: args.limit]

    from ..api import Assistant

    if squad_set is not None:
        from .squad_collection import prepare_squad_components

        components = prepare_squad_components(components, path, squad_set.paragraphs)
    assistant = Assistant(components=components)
    backends = list(dict.fromkeys(args.llm)) if args.llm else [None]
    results = [run_backend(assistant, items, llm=llm, squad=squad) for llm in backends]

    if baselines is not None:
        for result in results:
            old = baseline_for(result.backend, baselines)
            if old is not None:
                result.delta = summary_delta(result.summary, old)
    for result in results:
        if result.errors:
            print(
                f"survey-assistant: {len(result.errors)} question(s) failed with {result.backend} "
                f"(counted as wrong), first: {result.errors[0]}",
                file=sys.stderr,
            )
    if args.out is not None:
        written = write_reports(args.out, results, dataset=path, squad=squad, baselines=baselines)
        print(
            f"Report written to {args.out}: {', '.join(p.name for p in written)}", file=sys.stderr
        )
    if args.json:
        from ..json_output import print_json

        print_json(result_object(results))
    else:
        print(summary_table(results, baselines))
    return 0
