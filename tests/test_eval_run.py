"""`survey-assistant eval` end to end: real index, real embedder, extractive backend, through the
CLI in a subprocess with its own data directory. Plus the input checks, which need no model.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sample_data import CMRC_TRIAL, cmrc_trial

from assistant.errors import UsageError
from assistant.evaluation.dataset import read_faq_pairs, read_squad

ROOT = Path(__file__).resolve().parent.parent
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
SUMMARY_KEYS = {
    "n",
    "hit_at_1",
    "hit_at_3",
    "hit_at_5",
    "mrr",
    "char_f1",
    "rouge_l",
    "key_recall",
    "abstain_accuracy",
    "abstained_answerable",
    "abstained_unanswerable",
    "latency_p50_ms",
    "latency_p95_ms",
}
FIVE_ITEMS = [
    {
        "id": "algo",
        "question": "深度学习有哪几种基本算法？",
        "answer": "前向传播、反向传播和梯度下降。",
        "keys": ["前向传播", "反向传播", "梯度下降"],
        "source": "3.1 深度学习基础",
    },
    {
        "id": "tools-en",
        "question": "Which deep learning frameworks are recommended?",
        "answer": "TensorFlow, PyTorch and Keras.",
        "keys": ["TensorFlow", "PyTorch"],
        "source": "7.1 深度学习工具",
    },
    {
        "id": "followup",
        "question": "那计算机视觉呢？",
        "answer": "卷积神经网络、对象检测和分类、图像生成和编辑。",
        "history": ["自然语言处理的基本算法有哪些？"],
        "keys": ["卷积神经网络"],
        "source": "3.3 计算机视觉基础",
    },
    {
        "id": "faq",
        "question": "AI大模型面临哪些挑战？",
        "answer": "计算资源的瓶颈、数据的隐私保护、模型的可解释性、算法的复杂性等。",
        "source": "9. 附录",
    },
    {
        "id": "recipe",
        "question": "红烧肉怎么做才好吃？",
        "answer": "文档与烹饪无关。",
        "expect": "abstain",
    },
]


def cli(data_dir: Path, *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    env["ASSISTANT_DATA_DIR"] = str(data_dir)
    return subprocess.run(
        [sys.executable, "-m", "assistant", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def write_jsonl(path: Path, records: list) -> Path:
    path.write_text(
        "\n".join(json.dumps(r, ensure_ascii=False) for r in records) + "\n", encoding="utf-8"
    )
    return path


def check_report_folder(out: Path, printed: dict) -> str:
    assert json.loads((out / "report.json").read_text(encoding="utf-8")) == printed
    for chart in ("metrics.png", "latency.png"):
        data = (out / chart).read_bytes()
        assert data.startswith(PNG_MAGIC) and len(data) > 1000
    markdown = (out / "report.md").read_text(encoding="utf-8")
    assert "| metric |" in markdown and "| hit_at_3 |" in markdown
    assert "![metrics](metrics.png)" in markdown
    return markdown


@pytest.fixture(scope="module")
def survey_data_dir(tmp_path_factory) -> Path:
    data_dir = tmp_path_factory.mktemp("eval-data")
    done = cli(data_dir, "index", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["documents"] == 1  # corpus/eval is not indexed (.noindex)
    return data_dir


@pytest.fixture(scope="module")
def first_run(survey_data_dir, tmp_path_factory) -> tuple[Path, dict]:
    work = tmp_path_factory.mktemp("eval-run")
    faq = write_jsonl(work / "five.jsonl", FIVE_ITEMS)
    out = work / "out1"
    done = cli(
        survey_data_dir, "eval", str(faq), "--llm", "extractive", "--json", "--out", str(out)
    )
    assert done.returncode == 0, done.stderr
    return out, json.loads(done.stdout)


@pytest.mark.integration
def test_jsonl_run_prints_the_contract_object_and_writes_the_report(first_run):
    out, result = first_run
    assert set(result["summary"]) == SUMMARY_KEYS
    summary = result["summary"]
    assert summary["n"] == 5
    for key in SUMMARY_KEYS - {"n", "latency_p50_ms", "latency_p95_ms"}:
        assert 0.0 <= summary[key] <= 1.0, key
    assert summary["latency_p50_ms"] <= summary["latency_p95_ms"]
    items = {item["id"]: item for item in result["items"]}
    assert list(items) == [r["id"] for r in FIVE_ITEMS]
    for item in items.values():
        assert {
            "id",
            "hit_rank",
            "abstained",
            "answer",
            "char_f1",
            "key_recall",
            "latency_ms",
        } <= set(item)
        assert len(item["retrieved"]) <= 5
    # the plain question is retrieved and answered from its section
    assert items["algo"]["hit_rank"] == 1 and items["algo"]["key_recall"] == 1.0
    assert items["followup"]["rewritten_question"]  # the follow-up was made standalone
    assert items["faq"]["key_recall"] is None  # no keys: not counted
    assert items["recipe"]["char_f1"] is None  # not answerable: no answer similarity
    check_report_folder(out, result)


@pytest.mark.integration
def test_baseline_adds_the_change_of_every_metric(first_run, survey_data_dir, tmp_path):
    out1, first = first_run
    faq = write_jsonl(tmp_path / "five.jsonl", FIVE_ITEMS)
    out2 = tmp_path / "out2"
    done = cli(
        survey_data_dir,
        "eval",
        str(faq),
        "--llm",
        "extractive",
        "--json",
        "--out",
        str(out2),
        "--baseline",
        str(out1 / "report.json"),
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert set(result["delta"]) == SUMMARY_KEYS
    # the same questions over the same index: every score is unchanged, only timing moves
    assert result["delta"]["hit_at_1"] == 0.0 and result["delta"]["key_recall"] == 0.0
    assert result["summary"]["hit_at_1"] == first["summary"]["hit_at_1"]
    markdown = check_report_folder(out2, result)
    assert "| extractive baseline | change |" in markdown


@pytest.mark.integration
def test_squad_run_uses_its_own_collection(survey_data_dir, tmp_path):
    trial = cmrc_trial()
    small = {
        "version": trial.get("version", ""),
        "data": [
            dict(article, paragraphs=article["paragraphs"][:1]) for article in trial["data"][:3]
        ],
    }
    questions = sum(len(p["qas"]) for a in small["data"] for p in a["paragraphs"])
    squad = tmp_path / "cmrc-small.json"
    squad.write_text(json.dumps(small, ensure_ascii=False), encoding="utf-8")
    survey_manifest = (survey_data_dir / "manifests" / "survey.json").read_bytes()
    out = tmp_path / "out"

    done = cli(
        survey_data_dir,
        "eval",
        "--squad",
        str(squad),
        "--llm",
        "extractive",
        "--json",
        "--out",
        str(out),
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    summary = result["summary"]
    assert set(summary) == SUMMARY_KEYS | {"em", "f1", "contains"}
    assert summary["n"] == questions
    # three paragraphs only: the gold paragraph is almost always among the top 5
    assert summary["hit_at_5"] >= 0.8
    assert 0.0 <= summary["em"] <= summary["contains"] <= 1.0
    for item in result["items"]:
        assert {"em", "f1", "contains"} <= set(item)
        assert item["source"].endswith(".txt")  # the gold paragraph's document
    check_report_folder(out, result)
    # the survey collection is untouched; the set has a collection of its own
    assert (survey_data_dir / "manifests" / "survey.json").read_bytes() == survey_manifest
    manifest = json.loads((survey_data_dir / "manifests" / "squad-cmrc-small.json").read_text())
    assert len(manifest["documents"]) == 3


@pytest.mark.integration
def test_malformed_jsonl_exits_2_with_one_clear_line(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text(
        json.dumps(FIVE_ITEMS[0], ensure_ascii=False) + '\n{"id": "x", "question": \n',
        encoding="utf-8",
    )
    done = cli(tmp_path / "data", "eval", str(bad), "--json")
    assert done.returncode == 2
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in done.stderr
    assert "line 2" in lines[0] and "bad.jsonl" in lines[0]
    assert not (tmp_path / "data").exists()  # refused before anything was loaded or written


@pytest.mark.integration
def test_file_and_squad_together_is_a_usage_error(tmp_path):
    faq = write_jsonl(tmp_path / "five.jsonl", FIVE_ITEMS)
    done = cli(tmp_path / "data", "eval", str(faq), "--squad", str(CMRC_TRIAL))
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1


# --- input checks (no model) ---------------------------------------------------------------------


@pytest.mark.unit
@pytest.mark.parametrize(
    ("line", "fragment"),
    [
        ("not json", "not valid JSON"),
        ("[1, 2]", "expected a JSON object"),
        ('{"id": "a", "question": "q"}', "'answer' is missing"),
        ('{"id": "a", "question": "", "answer": "x"}', "'question' must be a non-empty string"),
        (
            '{"id": "a", "question": "q", "answer": "x", "keys": "前向传播"}',
            "'keys' must be a list",
        ),
        ('{"id": "a", "question": "q", "answer": "x", "expect": "maybe"}', "'expect' must be"),
        (
            '{"id": "a", "question": "q", "answer": "x", "sorce": "1. 背景介绍"}',
            "unknown field 'sorce'",
        ),
        ('{"id": "a", "question": "q", "answer": "x", "history": [1]}', "'history' must be a list"),
    ],
)
def test_bad_jsonl_line_is_one_usage_error_naming_the_line(tmp_path, line, fragment):
    path = tmp_path / "set.jsonl"
    path.write_text(
        '{"id": "ok", "question": "q", "answer": "a"}\n\n' + line + "\n", encoding="utf-8"
    )
    with pytest.raises(UsageError) as excinfo:
        read_faq_pairs(path)
    message = str(excinfo.value)
    assert "line 3" in message and fragment in message and "\n" not in message


@pytest.mark.unit
def test_duplicate_ids_and_empty_files_are_refused(tmp_path):
    path = tmp_path / "set.jsonl"
    path.write_text(
        '{"id": 1, "question": "q", "answer": "a"}\n{"id": "1", "question": "q", "answer": "a"}\n'
    )
    with pytest.raises(UsageError, match="already used on line 1"):
        read_faq_pairs(path)
    path.write_text("\n\n")
    with pytest.raises(UsageError, match="holds no items"):
        read_faq_pairs(path)
    with pytest.raises(UsageError, match="does not exist"):
        read_faq_pairs(tmp_path / "missing.jsonl")


@pytest.mark.unit
def test_survey_eval_set_is_valid_and_covers_every_section():
    items = read_faq_pairs(ROOT / "corpus" / "eval" / "survey_faq.jsonl")
    assert len(items) >= 60
    answerable = [it for it in items if it.answerable]
    assert all(it.source and 2 <= len(it.keys) <= 4 for it in answerable)
    assert sum(1 for it in items if it.history) >= 10
    assert sum(1 for it in items if not it.answerable) >= 8
    assert sum(1 for it in items if it.question.isascii()) >= 8
    assert {it.source.split(".")[0] for it in answerable} == {str(n) for n in range(1, 10)}
    survey = (ROOT / "corpus" / "ai_large_models_survey.md").read_text(encoding="utf-8")
    from assistant.evaluation.metrics import normalize

    text = normalize(survey)
    for item in answerable:
        assert item.source in survey, item.id
        for key in item.keys:  # keys are copied from the survey
            assert normalize(key) in text, (item.id, key)


@pytest.mark.unit
def test_read_squad(tmp_path):
    path = tmp_path / "set.json"
    path.write_text(
        json.dumps(
            {
                "data": [
                    {
                        "paragraphs": [
                            {
                                "id": "P/1",
                                "context": "尤金袋鼠约只有8公斤重。",
                                "qas": [
                                    {
                                        "id": "q1",
                                        "question": "多重？",
                                        "answers": [{"text": "8公斤"}, {"text": "8公斤"}],
                                    },
                                    {"id": "q2", "question": "", "answers": [{"text": "x"}]},
                                    {"id": "q3", "question": "多高？", "answers": []},
                                ],
                            }
                        ]
                    }
                ]
            },
            ensure_ascii=False,
        ),
        encoding="utf-8",
    )
    squad = read_squad(path)
    assert [p.document for p in squad.paragraphs] == ["P-1.txt"]
    assert [it.id for it in squad.items] == ["q1", "q3"]
    assert squad.skipped == ["q2"]
    assert squad.items[0].gold_answers == ("8公斤",) and squad.items[0].gold_document == "P-1.txt"
    assert squad.items[1].expect == "abstain"  # SQuAD 2.0 style: no answer in the paragraph
    path.write_text('{"version": 1}')
    with pytest.raises(UsageError, match="not a SQuAD-format file"):
        read_squad(path)
