"""`make bench`: every benchmark, figures printed (no pass/fail: speed goals are read, not asserted)."""

from __future__ import annotations

import importlib


def main() -> None:
    for name in ("embedder_bench", "index_bench", "retrieval_bench", "llm_bench", "ui_bench"):
        try:
            module = importlib.import_module(f"benchmarks.{name}")
        except ModuleNotFoundError as exc:
            if exc.name and exc.name.startswith("benchmarks."):
                continue  # a benchmark not written for this checkout
            raise
        module.main()
        print()


if __name__ == "__main__":
    main()
