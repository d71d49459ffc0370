"""Benchmark data kept in the repository for the tests, so that no test needs ``../shared``:
the CMRC 2018 trial set (256 paragraphs, 1,002 questions, CC BY-SA 4.0; provenance and licence
in ``tests/data/cmrc2018/``). The regression gate scores its first 24 paragraphs
(``benchmarks.cmrc_sample``)."""

from __future__ import annotations

import json
from pathlib import Path

CMRC_TRIAL = Path(__file__).parent / "data" / "cmrc2018" / "cmrc2018_trial.json"


def cmrc_trial() -> dict:
    """The trial set in SQuAD format."""
    return json.loads(CMRC_TRIAL.read_text(encoding="utf-8"))


def cmrc_paragraphs() -> list[dict]:
    """Its paragraphs, each with ``context`` and ``qas``, in file order."""
    return [p for article in cmrc_trial()["data"] for p in article["paragraphs"]]
