"""`make eval`: the survey sets (Chinese, and English questions over the Chinese text) with every
installed backend, and the CMRC 2018 trial set, with
reports under ``reports/`` (outside git). Prints the summaries; docs/results.md records them."""

from __future__ import annotations

import sys
from pathlib import Path

from assistant.backends import available_backends
from assistant.settings import SOURCE_ROOT, Settings
from cli.main import main as cli

from .cmrc import cmrc_path

REPORTS = SOURCE_ROOT / "reports"


def main() -> int:
    settings = Settings()
    backends = [b for b in available_backends(settings) if b != "openai" or "--openai" in sys.argv]
    survey = SOURCE_ROOT / "corpus" / "eval" / "survey_faq.jsonl"
    status = cli(["index"])
    llm_args = [arg for backend in backends for arg in ("--llm", backend)]
    status |= cli(["eval", str(survey), *llm_args, "--out", str(REPORTS / "survey")])
    english = SOURCE_ROOT / "corpus" / "eval" / "survey_en.jsonl"
    status |= cli(["eval", str(english), *llm_args, "--out", str(REPORTS / "survey-en")])
    cmrc_llms = ["--llm", "extractive"]
    if "llamacpp" in backends and "--cmrc-llamacpp" in sys.argv:
        cmrc_llms += ["--llm", "llamacpp"]
    status |= cli(
        ["eval", "--squad", str(cmrc_path()), *cmrc_llms, "--out", str(REPORTS / "cmrc2018-trial")]
    )
    print(f"reports: {Path(REPORTS)}/survey/report.md, {REPORTS}/cmrc2018-trial/report.md")
    return status


if __name__ == "__main__":
    raise SystemExit(main())
