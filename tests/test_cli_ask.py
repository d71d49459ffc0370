"""`survey-assistant ask` and `chat` as a user runs them: ``python -m assistant …`` in a subprocess
with its own ASSISTANT_DATA_DIR, after `index` (contracts.md: the `ask --json` object, exit codes,
one-line errors on stderr, follow-up rewriting in the terminal chat)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from answering_fixtures import ASK_KEYS, SOURCE_KEYS

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parent.parent


def _run(data_dir: Path, *args: str, stdin: str | None = None, timeout: float = 300):
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    env |= {"ASSISTANT_DATA_DIR": str(data_dir), "ASSISTANT_LLM": "extractive"}
    return subprocess.run(
        [sys.executable, "-m", "assistant", *args],
        input=stdin,
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=env,
        cwd=data_dir.parent,  # not the source tree
        timeout=timeout,
    )


def _assert_one_line_error(result, code: int) -> str:
    assert result.returncode == code, (result.returncode, result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""
    assert lines[0].startswith("survey-assistant: ")
    return lines[0]


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory) -> Path:
    data_dir = tmp_path_factory.mktemp("cli") / "data"
    result = _run(data_dir, "index", str(ROOT / "corpus"), "--json", timeout=600)
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert set(summary) == {
        "documents",
        "chunks",
        "added",
        "updated",
        "removed",
        "unchanged",
        "seconds",
    }
    assert summary["documents"] == 1 and summary["added"] == 1 and summary["chunks"] > 20
    return data_dir


def test_ask_json_has_exactly_the_contract_keys(data_dir):
    result = _run(data_dir, "ask", "--json", "深度学习的基本算法包括哪些？")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1  # one object, nothing else on stdout
    data = json.loads(lines[0])
    assert set(data) == ASK_KEYS
    assert data["question"] == "深度学习的基本算法包括哪些？"
    assert data["rewritten_question"] is None and data["abstained"] is False
    assert data["backend"] == "extractive"
    assert set(data["timings_ms"]) == {"retrieve", "generate", "total"}
    assert all(isinstance(v, int | float) and v >= 0 for v in data["timings_ms"].values())
    for key in ("前向传播", "反向传播", "梯度下降"):
        assert key in data["answer"]
    assert data["sources"]
    for source in data["sources"]:
        assert set(source) == SOURCE_KEYS
        assert source["document"] == "ai_large_models_survey.md"
        assert 0 <= source["score"] <= 1 and "#" not in source["section"]
    assert data["sources"][0]["section"] == "3. 核心算法原理和具体操作步骤 > 3.1 深度学习基础"
    assert "[1]" in data["answer"]


def test_ask_with_history_rewrites_the_followup(data_dir):
    result = _run(data_dir, "ask", "那TensorFlow呢？", "--history", "PyTorch是谁开发的？")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Google" in out
    assert "(standalone question: TensorFlow是谁开发的？)" in out
    assert "[1] ai_large_models_survey.md · 7. 工具和资源推荐 > 7.1 深度学习工具 · " in out


def test_ask_json_with_history(data_dir):
    result = _run(
        data_dir, "ask", "--json", "What about TensorFlow?", "--history", "Who developed PyTorch?"
    )
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["rewritten_question"] == "Who developed TensorFlow?"
    assert "Google" in data["answer"] and not data["abstained"]


@pytest.mark.parametrize("question", ["", "   ", "？？？", "!!!"])
def test_empty_question_exits_2_with_one_line(data_dir, question):
    line = _assert_one_line_error(_run(data_dir, "ask", question), 2)
    assert "question" in line


def test_too_long_question_exits_2_with_one_line(data_dir):
    line = _assert_one_line_error(_run(data_dir, "ask", "a" * 30_000), 2)
    assert "30000 characters" in line and "limit" in line


def test_ask_before_indexing_is_a_clear_error(tmp_path):
    line = _assert_one_line_error(_run(tmp_path / "empty", "ask", "深度学习是什么？"), 1)
    assert "survey-assistant index" in line


def test_chat_through_stdin_shows_the_followup_rewrite(data_dir):
    session = "PyTorch是谁开发的？\n\n那TensorFlow呢？\n/new\n那Keras呢？\n/quit\n"
    result = _run(data_dir, "chat", stdin=session)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Traceback" not in out + result.stderr
    assert "Facebook" in out and "Google" in out
    assert "understood as: TensorFlow是谁开发的？" in out
    assert out.count("understood as") == 1  # after /new, "那Keras呢？" has no earlier turn
    assert "The question is empty" in out
    assert "助手>   The question is empty" not in out  # the error is not printed as an answer
    assert "[1] 7. 工具和资源推荐 > 7.1 深度学习工具" in out


def test_chat_ends_at_end_of_input(data_dir):
    result = _run(data_dir, "chat", stdin="")
    assert result.returncode == 0 and "Traceback" not in result.stderr
