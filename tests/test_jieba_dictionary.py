"""jieba's dictionary as an on-disk table: a cold process cuts questions without loading the
dictionary, and cuts them exactly as jieba does."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sample_data import cmrc_paragraphs

from assistant.settings import SOURCE_ROOT
from index.jieba_dictionary import FrequencyTable, tokenizer_on_table, write_table
from index.keyword_tokens import _loaded_jieba, _word_tags


@pytest.fixture(scope="module")
def table_path(tmp_path_factory) -> Path:
    jieba = _loaded_jieba()
    path = tmp_path_factory.mktemp("jieba") / "jieba-dictionary.sqlite"
    write_table(path, jieba.dt.FREQ, jieba.dt.total, _word_tags())
    return path


@pytest.mark.integration
def test_the_table_keeps_jiebas_part_of_speech_tags(table_path):
    tags = _word_tags()
    table = FrequencyTable.open(table_path)
    try:
        for word in ("北京", "阿里巴巴", "武汉大学", "模型", "开发"):
            assert table.tag(word) == tags[word]
        assert table.tag("北京") == "ns" and table.tag("模型") == "n"
        assert table.tag("秋明州") is None  # a word jieba does not know
    finally:
        table.close()


def _texts() -> list[str]:
    survey = (SOURCE_ROOT / "corpus" / "ai_large_models_survey.md").read_text(encoding="utf-8")
    texts = [line for line in survey.splitlines() if line.strip()]
    texts += [
        "那TensorFlow呢？",
        "ＦＵＬＬ－ｗｉｄｔｈ　ＧＰＴ！？量子计算机的工作原理是什么？",
        "emoji 😀 and 中文混排 text, 北京大学生前来应聘",
    ]
    paragraphs = cmrc_paragraphs()[:60]
    texts += [p["context"] for p in paragraphs]
    texts += [qa["question"] for p in paragraphs for qa in p["qas"]]
    return texts


@pytest.mark.integration
def test_the_table_cuts_text_exactly_as_the_loaded_dictionary(table_path):
    jieba = _loaded_jieba()
    table = FrequencyTable.open(table_path)
    assert table is not None and table.total == jieba.dt.total
    on_table = tokenizer_on_table(table)
    for text in _texts():
        assert list(on_table.cut_for_search(text)) == list(jieba.cut_for_search(text)), text
        assert list(on_table.cut(text)) == list(jieba.cut(text)), text
    assert "模型" in table and table["模型"] == jieba.dt.FREQ["模型"]
    assert "不是一个词的字符串" not in table
    with pytest.raises(KeyError):
        table["不是一个词的字符串"]


@pytest.mark.integration
def test_a_missing_damaged_or_foreign_table_is_not_used(table_path, tmp_path):
    import sqlite3

    assert FrequencyTable.open(tmp_path / "missing.sqlite") is None
    damaged = tmp_path / "damaged.sqlite"
    damaged.write_bytes(b"SQLite format 3\x00" + os.urandom(2000))
    assert FrequencyTable.open(damaged) is None
    foreign = tmp_path / "foreign.sqlite"
    foreign.write_bytes(table_path.read_bytes())
    with sqlite3.connect(foreign) as db:
        db.execute("UPDATE meta SET value = 'jieba 0.1; dict.txt 1 bytes' WHERE key = 'source'")
    assert FrequencyTable.open(foreign) is None


@pytest.mark.integration
def test_an_unwritable_folder_leaves_no_table_and_no_error(tmp_path):
    if os.geteuid() == 0:
        target = Path("/proc/jieba-dictionary.sqlite")  # not writable even for root
    else:
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        target = locked / "jieba-dictionary.sqlite"
    jieba = _loaded_jieba()
    write_table(target, jieba.dt.FREQ, jieba.dt.total)
    assert not target.exists()


def _run_python(code: str, table: Path) -> str:
    """Run ``code`` in a fresh interpreter (nothing of jieba loaded) and return its output."""
    result = subprocess.run(
        [sys.executable, "-c", code, str(table)],
        cwd=SOURCE_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


_COLD_PROCESS = """
import json, sys
import jieba
from index import keyword_tokens as kt
kt.use_dictionary_table(__import__("pathlib").Path(sys.argv[1]))
question = kt.keyword_tokens("大模型面临哪些数据方面的挑战？")
terms = kt.coverage_terms("量子计算机的工作原理是什么？")
loaded_for_question = jieba.dt.initialized
kt.keyword_tokens("深度学习是AI大模型的核心技术。" * 2000)  # indexing-sized text
print(json.dumps([question, terms, loaded_for_question, jieba.dt.initialized]))
"""


@pytest.mark.integration
def test_a_cold_process_cuts_a_question_from_the_table_then_loads_for_volume(table_path):
    from index.keyword_tokens import coverage_terms, keyword_tokens

    output = _run_python(_COLD_PROCESS, table_path)
    question, terms, loaded_for_question, loaded_after = json.loads(output)
    assert question == keyword_tokens("大模型面临哪些数据方面的挑战？")
    assert terms == [list(t) for t in coverage_terms("量子计算机的工作原理是什么？")]
    assert loaded_for_question is False  # the question was cut from the table
    assert loaded_after is True  # a large text loads the dictionary


@pytest.mark.integration
def test_the_first_process_writes_the_table_into_the_data_dir(tmp_path):
    target = tmp_path / "data" / "models" / "jieba-dictionary.sqlite"
    code = (
        "import sys, pathlib\n"
        "from index import keyword_tokens as kt\n"
        "kt.use_dictionary_table(pathlib.Path(sys.argv[1]))\n"
        "print(kt.keyword_tokens('PyTorch是谁开发的？'))\n"
    )
    for _ in range(2):
        assert "pytorch" in _run_python(code, target)
    assert FrequencyTable.open(target) is not None
    assert not list(target.parent.glob("*.tmp"))
