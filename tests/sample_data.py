"""Benchmark data kept in the repository for the tests, so that no test needs ``../shared``:
the first 24 paragraphs of the CMRC 2018 trial set (97 questions, CC BY-SA 4.0; provenance and
licence in ``tests/data/cmrc2018/``)."""

from __future__ import annotations

import json
from pathlib import Path

CMRC_SAMPLE = Path(__file__).parent / "data" / "cmrc2018" / "cmrc2018_trial_sample.json"


def cmrc_sample() -> dict:
    """The sample in SQuAD format."""
    return json.loads(CMRC_SAMPLE.read_text(encoding="utf-8"))


def cmrc_sample_paragraphs() -> list[dict]:
    """Its paragraphs, each with ``context`` and ``qas``, in file order."""
    return [p for article in cmrc_sample()["data"] for p in article["paragraphs"]]
