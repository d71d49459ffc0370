"""CC-CEDICT glosses: a Chinese question's words meet the English words of code and names."""

from __future__ import annotations

import subprocess
import sys

import pytest

from assistant.answer_evidence import evidence, question_support
from assistant.settings import SOURCE_ROOT
from index.glosses import english_words, latin_words
from index.passage import Passage

pytestmark = pytest.mark.unit

CODE = (
    "下面的程序连接本地服务并读取配置。\n"
    "以下是一段配置代码：\n"
    "```python\n"
    'client = connect(database="orders", timeout=5)\n'
    "rows = client.fetch_temperature_readings()\n"
    "```"
)


def _passages(text: str) -> list[Passage]:
    return [Passage("p0", "notes.md", "3.2 配置示例", text, 0.8, 0.8, 0.8)]


def test_identifiers_are_cut_into_their_words():
    assert latin_words("BertForSequenceClassification.from_pretrained(x)") >= {
        "bert", "for", "sequence", "classification", "from", "pretrained",
    }  # fmt: skip
    assert latin_words("HTTPServer image_url") == {"http", "server", "image", "url"}
    assert latin_words("只有中文") == set()


def test_a_chinese_word_has_its_english_glosses_and_their_forms():
    assert {"database", "databases"} <= english_words("数据库")
    assert {"temperature"} <= english_words("温度")
    assert {"predict", "predicted", "prediction"} <= english_words("预测")
    assert "engineer" not in english_words("引擎")  # another word, not a form of engine
    assert english_words("之乎者也不存在的词") == frozenset()


def test_a_code_line_answers_a_chinese_question_in_its_english_words():
    found = evidence("这段配置代码连的是哪个数据库？", _passages(CODE))
    assert found[0].units == ('client = connect(database="orders", timeout=5)',)
    # The colon line only introduces the code: it is never the evidence itself.
    assert all(not e.units[-1].endswith("：") for e in found)
    # A word no line states in any language is still not there: the check abstains.
    assert not question_support("这段配置代码用的是哪家公司的数据库？", _passages(CODE)).supported


def test_a_file_name_is_no_gloss_for_the_question():
    # "models.md" would otherwise hold 模型 for every line of the file: the glosses are read
    # in a window's own words, not in its document's name or section path.
    passage = [Passage("p0", "models.md", "部署", "部署时先运行setup脚本。", 0.8, 0.8, 0.8)]
    assert not question_support("有哪些模型？", passage).supported
    code = [Passage("p0", "notes.md", "部署", "load(model_dir)", 0.8, 0.8, 0.8)]
    assert question_support("有哪些模型？", code).supported  # the line's own word counts


def test_the_glosses_are_read_once_into_a_table_in_the_data_directory(tmp_path):
    table = tmp_path / "models" / "cedict-glosses.sqlite"
    script = (
        "import sys, pathlib\n"
        "from index.glosses import english_words, use_gloss_table\n"
        "use_gloss_table(pathlib.Path(sys.argv[1]))\n"
        "print(sorted(english_words('引擎'))[0])\n"
    )
    run = [sys.executable, "-c", script, str(table)]
    first = subprocess.run(run, cwd=SOURCE_ROOT, capture_output=True, text=True, timeout=120)
    assert first.returncode == 0, first.stderr
    assert table.is_file()
    written = table.stat().st_mtime_ns
    second = subprocess.run(run, cwd=SOURCE_ROOT, capture_output=True, text=True, timeout=120)
    assert second.stdout == first.stdout == "engine\n"
    assert table.stat().st_mtime_ns == written  # read, not written again
    # A damaged table is replaced, not trusted.
    table.write_bytes(b"not a database")
    third = subprocess.run(run, cwd=SOURCE_ROOT, capture_output=True, text=True, timeout=120)
    assert third.returncode == 0 and third.stdout == "engine\n", third.stderr


def test_a_sentence_ending_in_a_colon_before_prose_still_states_its_fact():
    text = "2019年3月学校新开设了机器人社团，社团分为以下三组：\n初级组面向新生，高级组面向老生。"
    found = evidence("2019年3月学校新开设了什么社团？", _passages(text))
    assert found and found[0].units[0].startswith("2019年3月学校新开设了机器人社团")
