"""The regression gate: the survey set with `extractive` and a fixed CMRC sample must stay at or
above the committed floors; a deliberately weakened configuration must fail it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sample_data import CMRC_TRIAL

from assistant.evaluation.gate import below_floors, load_floors
from assistant.settings import SOURCE_ROOT
from benchmarks.cmrc_sample import write_cmrc_sample

pytestmark = [pytest.mark.integration, pytest.mark.slow]

SURVEY_SET = SOURCE_ROOT / "corpus" / "eval" / "survey_faq.jsonl"  # the dev part
SURVEY_TEST = SOURCE_ROOT / "corpus" / "eval" / "survey_test.jsonl"  # frozen: never tuned on
# Dev too: questions in other words than the survey's, and on-topic near misses.
PARAPHRASE_SET = SOURCE_ROOT / "corpus" / "eval" / "paraphrase_dev.jsonl"
# Dev too: follow-up questions of many forms after one or two earlier turns.
FOLLOWUP_SET = SOURCE_ROOT / "corpus" / "eval" / "followup_dev.jsonl"


def _eval(data_dir: Path, *args: str, env_extra: dict | None = None) -> dict:
    env = {**os.environ, "ASSISTANT_DATA_DIR": str(data_dir), **(env_extra or {})}
    env.pop("ASSISTANT_LLM", None)
    result = subprocess.run(
        [sys.executable, "-m", "assistant", "eval", *args, "--llm", "extractive", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        cwd=SOURCE_ROOT,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)["summary"]


@pytest.fixture(scope="module")
def survey_data_dir(tmp_path_factory) -> Path:
    data_dir = tmp_path_factory.mktemp("gate-survey")
    env = {**os.environ, "ASSISTANT_DATA_DIR": str(data_dir)}
    subprocess.run(
        [sys.executable, "-m", "assistant", "index"],
        env=env,
        check=True,
        capture_output=True,
        timeout=600,
        cwd=SOURCE_ROOT,
    )
    return data_dir


def test_survey_set_stays_above_floors(survey_data_dir):
    summary = _eval(survey_data_dir, str(SURVEY_SET))
    print("survey/extractive:", summary)
    assert below_floors(summary, load_floors()["survey"]) == []


def test_paraphrase_set_stays_above_floors(survey_data_dir):
    summary = _eval(survey_data_dir, str(PARAPHRASE_SET))
    print("paraphrase dev/extractive:", summary)
    assert below_floors(summary, load_floors()["paraphrase_dev"]) == []


def test_followup_set_stays_above_floors(survey_data_dir):
    summary = _eval(survey_data_dir, str(FOLLOWUP_SET))
    print("follow-up dev/extractive:", summary)
    assert below_floors(summary, load_floors()["followup_dev"]) == []


def test_frozen_survey_test_part_stays_above_floors(survey_data_dir):
    summary = _eval(survey_data_dir, str(SURVEY_TEST))
    print("survey test part/extractive:", summary)
    assert below_floors(summary, load_floors()["survey_test"]) == []


def test_cmrc_sample_stays_above_floors(tmp_path):
    sample = write_cmrc_sample(tmp_path / "cmrc_sample.json", source=CMRC_TRIAL)
    summary = _eval(tmp_path / "data", "--squad", str(sample))
    print("cmrc sample/extractive:", summary)
    assert below_floors(summary, load_floors()["cmrc_sample"]) == []


def test_gate_fails_on_a_weakened_configuration(survey_data_dir):
    # A relevance threshold near 1: the assistant abstains on nearly everything.
    summary = _eval(
        survey_data_dir, str(SURVEY_SET), env_extra={"ASSISTANT_RELEVANCE_THRESHOLD": "0.97"}
    )
    failures = below_floors(summary, load_floors()["survey"])
    assert any("abstain_accuracy" in f or "key_recall" in f for f in failures), summary


def test_below_floors_reports_each_metric():
    floors = {"hit_at_3": 0.9, "key_recall": 0.8}
    assert below_floors({"hit_at_3": 0.95, "key_recall": 0.85}, floors) == []
    failures = below_floors({"hit_at_3": 0.5, "key_recall": None}, floors)
    assert len(failures) == 2 and "hit_at_3 = 0.5" in failures[0]
