"""`survey-assistant index`: progress bar on stderr, summary on stdout, per-file errors listed."""

from __future__ import annotations

import sys
from pathlib import Path

from assistant.json_output import print_json

# Exit code when the good files were indexed but some were skipped (each named on stderr): not a
# success a script should take silently, nor a failure of the run.
SKIPPED_EXIT = 3


def run_index(
    components, paths: list[Path], *, rebuild: bool, as_json: bool, follow_links: bool = False
) -> int:
    from tqdm import tqdm

    targets = paths or [components.settings.corpus_dir]
    bar = None

    def progress(done: int, total: int, name: str) -> None:
        nonlocal bar
        if bar is None:
            bar = tqdm(
                total=total, unit="doc", desc="indexing", file=sys.stderr, disable=None, leave=False
            )
        bar.set_postfix_str(name[-40:], refresh=False)
        bar.update(1)

    try:
        report = components.indexer().index_paths(
            targets, rebuild=rebuild, progress=progress, follow_links=follow_links
        )
    finally:
        if bar is not None:
            bar.close()
    for name, message in report.errors:
        print(f"survey-assistant: skipped {name}: {message}", file=sys.stderr)
    if as_json:
        print_json(report.summary())
    else:
        s = report.summary()
        print(
            f"{s['documents']} documents, {s['chunks']} chunks: {s['added']} added, {s['updated']} "
            f"updated, {s['removed']} removed, {s['unchanged']} unchanged in {s['seconds']:.2f} s"
        )
    if report.errors:
        print(
            f"survey-assistant: {len(report.errors)} file(s) skipped (listed above); the others "
            f"were indexed (exit code {SKIPPED_EXIT}).",
            file=sys.stderr,
        )
        return SKIPPED_EXIT
    return 0
