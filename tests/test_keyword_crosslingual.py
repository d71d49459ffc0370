"""English questions over a Chinese corpus: which Latin words can be checked lexically, and which
chunks are compared across languages (their dense score is calibrated separately)."""

from __future__ import annotations

import pytest

from index.embeddings import E5_CALIBRATION, USE_CALIBRATION
from index.keyword_index import KeywordIndex, KeywordRecord
from index.retrieval import dense_relevance

pytestmark = pytest.mark.unit

RECORDS = [
    ("zh", "7.1 深度学习工具\nTensorFlow：一个开源的深度学习框架，由Google开发。"),
    (
        "code",
        "5.2 BERT示例\n```python\nmodel = BertModel.from_pretrained(name)\ntext = tokenize(model)\n```",
    ),
    ("en", "Notes\nThe model reads the text and returns a label."),
    ("zh2", "6.2 计算机视觉应用场景\n计算机视觉的应用场景包括对象识别、图像分类和自动驾驶。"),
]


@pytest.fixture
def snapshot(tmp_path):
    index = KeywordIndex(tmp_path / "keyword")
    index.build("test", [KeywordRecord(i, text, {}) for i, text in RECORDS])
    return index.load()


def test_words_of_sentences_are_checkable_code_words_are_not(snapshot):
    words = snapshot.prose_words()
    assert {"tensorflow", "google"} <= words  # names in Chinese sentences
    assert {"reads", "label", "model"} <= words  # an English passage
    assert "bertmodel" not in words and "tokenize" not in words  # only in code


def test_an_english_question_sharing_only_code_words_covers_nothing(tmp_path):
    index = KeywordIndex(tmp_path / "chinese")
    chinese = [(i, text) for i, text in RECORDS if i != "en"]  # "model", "text" only in code
    chinese += [
        (f"p{n}", "大模型的发展面临计算资源、数据质量和模型解释性等挑战。" * 3) for n in range(4)
    ]
    index.build("chinese", [KeywordRecord(i, text, {}) for i, text in chinese])
    snapshot = index.load()
    assert snapshot.corpus_is_cjk
    terms = snapshot.query_terms("What is the price of the Tesla model text?")
    assert max(snapshot.coverage(terms, i) for i in range(len(snapshot))) == 0.0
    named = snapshot.query_terms("Who developed TensorFlow?")
    assert snapshot.coverage(named, 0) > 0.4  # the name carries it


def test_chunk_scripts(snapshot):
    assert [snapshot.script(i) for i in range(len(snapshot))] == ["cjk", "mixed", "latin", "cjk"]


@pytest.mark.parametrize("calibration", [USE_CALIBRATION, E5_CALIBRATION], ids=["use", "e5"])
def test_cross_lingual_cosines_map_higher_than_same_language_ones(calibration):
    between = (calibration.floor + calibration.cross_lingual_ceiling) / 2
    assert dense_relevance(between, calibration, cross_lingual=True) > dense_relevance(
        between, calibration
    )
    assert dense_relevance(calibration.ceiling, calibration) == 1.0
    assert (
        dense_relevance(calibration.cross_lingual_ceiling, calibration, cross_lingual=True) == 1.0
    )
    assert (
        dense_relevance(calibration.cross_lingual_floor - 0.01, calibration, cross_lingual=True)
        == 0.0
    )


# -- English words glossed into the corpus's Chinese words (CC-CEDICT, translation.py) --------------
def test_english_words_are_glossed_into_the_corpus_words():
    from index.translation import build_table, translate

    table = build_table({"计算机", "视觉", "库", "挑战", "推荐", "什么", "模型", "首"})
    found = translate("Which libraries does the survey recommend for computer vision?", table)
    assert {"计算机", "视觉", "库", "推荐"} <= set(found)  # "libraries" -> "library" -> 库
    assert "什么" not in translate("What are the challenges?", table)  # question words are not
    assert translate("What are the challenges?", table) == ["挑战"]
    # Words whose glosses the corpus lacks give nothing: no 首都 or 法国 here.
    assert translate("What is the capital of France?", table) == []
    assert translate("计算机视觉", table) == []


def test_without_a_readable_dictionary_there_is_no_table(tmp_path):
    from index.translation import build_table, translate

    broken = tmp_path / "cedict.txt.gz"
    broken.write_bytes(b"not gzip")
    assert build_table({"计算机"}, broken) == {}
    assert translate("computer", {}) == []


def test_the_snapshot_ranks_an_english_question_by_the_glossed_words(tmp_path):
    index = KeywordIndex(tmp_path / "keyword")
    chinese = [(i, text) for i, text in RECORDS if i in ("zh", "zh2")]
    chinese.append(("p", "大模型的发展面临计算资源、数据质量和模型解释性等挑战。"))
    index.build("chinese", [KeywordRecord(i, text, {}) for i, text in chinese])
    snapshot = index.load()
    query = "What are the applications of computer vision?"
    expanded = snapshot.expand(query)
    assert "计算机" in expanded and "视觉" in expanded and "应用" in expanded
    tokens = expanded.lower().split()
    best, _ = snapshot.search(tokens, 1)[0]
    assert snapshot.records[best].id == "zh2"
    # The calibrated coverage (abstention) is not changed by the glosses.
    assert max(snapshot.coverage(snapshot.query_terms(query), i) for i in range(3)) == 0.0
    # A snapshot written before the table existed loads, and ranks as it did.
    (index._published()[1] / "translations.json").unlink()
    old = index.load()
    assert old.translations == {} and old.expand(query) == query
