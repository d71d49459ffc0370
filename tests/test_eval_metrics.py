"""Evaluation metrics against hand-checked examples (Chinese and English).

Every expected value is worked out by hand in the comment next to it, so a change in a metric's
definition shows up as a failing test rather than as a quietly different report.
"""

from __future__ import annotations

import pytest

from assistant.evaluation import metrics as m
from assistant.evaluation.dataset import EvalItem
from assistant.evaluation.report import summary_delta
from assistant.evaluation.runner import SUMMARY_KEYS, score_item, summarize
from index.passage import Passage

pytestmark = pytest.mark.unit


# --- normalisation -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "深度学习，PyTorch！",
            "深度学习pytorch",
        ),  # full-width ， and ！ dropped, Latin lower-cased
        ("Ｔｅｎｓｏｒ Ｆｌｏｗ。", "tensorflow"),  # NFKC turns full-width letters into ASCII
        ("（AI）大模型", "ai大模型"),  # full-width brackets
        ("text-davinci-002", "textdavinci002"),  # ASCII punctuation
        ("a_b\tc\n d", "abcd"),  # underscore is punctuation; tabs, newlines, spaces go
        ("“引号”《书名》、顿号…", "引号书名顿号"),  # Chinese quotes, title marks, 、 and …
        ("x+y=z | 100%", "xyz100"),  # ASCII symbols (+ = |) and %
    ],
)
def test_normalize(text, expected):
    assert m.normalize(text) == expected


def test_strip_citations_removes_only_numbered_markers():
    assert m.strip_citations("梯度下降[1]\n反向传播[12]") == "梯度下降\n反向传播"
    assert m.strip_citations("list[str] [a]") == "list[str] [a]"


# --- character F1 --------------------------------------------------------------------------------


def test_char_f1_chinese():
    # pred 深度学习框架 (6 chars), ref 深度学习 (4): common 4 -> P 4/6, R 4/4 -> F1 = 2*(2/3)/(5/3) = 0.8
    assert m.char_f1("深度学习框架", "深度学习") == pytest.approx(0.8)
    # pred 前向传播反向传播 (8 after dropping ，。), ref 反向传播 (4): bag overlap 反1 向1 传1 播1 = 4
    # -> P 4/8, R 4/4 -> F1 = 2*0.5/1.5 = 2/3
    assert m.char_f1("前向传播，反向传播。", "反向传播") == pytest.approx(2 / 3)
    assert m.char_f1("猫", "狗") == 0.0


def test_char_f1_english():
    # "google" (6) vs "googleinc" (9): common g2 o2 l1 e1 = 6 -> P 1, R 6/9 -> F1 = 2*(2/3)/(5/3) = 0.8
    assert m.char_f1("Google", "google inc") == pytest.approx(0.8)
    # case and punctuation do not count: identical after normalisation
    assert m.char_f1("PyTorch!", "pytorch") == 1.0


def test_char_f1_empty_texts():
    assert m.char_f1("", "") == 1.0  # both empty: nothing to disagree on
    assert m.char_f1("。！", "答案") == 0.0  # punctuation only is empty


# --- ROUGE-L -------------------------------------------------------------------------------------


def test_lcs_length_classic_example():
    # ABCBDAB / BDCABA: one LCS is BCBA -> 4
    assert m.lcs_length("ABCBDAB", "BDCABA") == 4


def test_rouge_l_chinese_word_order_matters():
    # 深度学习框架 vs 学习深度框架: LCS is 学习框架 (or 深度框架) = 4 -> P 4/6, R 4/6 -> F 2/3.
    # char_f1 sees the same bag of characters and gives 1.0.
    assert m.rouge_l("深度学习框架", "学习深度框架") == pytest.approx(2 / 3)
    assert m.char_f1("深度学习框架", "学习深度框架") == 1.0


def test_rouge_l_english():
    # "thecatsat" (9) vs "thecat" (6): LCS 6 -> P 6/9, R 1 -> F = 2*(2/3)/(5/3) = 0.8
    assert m.rouge_l("The cat sat.", "the cat") == pytest.approx(0.8)
    assert m.rouge_l("", "") == 1.0
    assert m.rouge_l("abc", "xyz") == 0.0


def test_best_over_references():
    assert m.best_over(m.char_f1, "深度学习", ["机器学习", "深度学习"]) == 1.0
    assert m.best_over(m.char_f1, "深度学习", []) == 0.0


# --- key recall, contains, abstention ------------------------------------------------------------


def test_key_recall_chinese():
    answer = "深度学习的基本算法包括：前向传播、反向传播。[1]"
    keys = ["前向传播", "反向传播", "梯度下降"]
    assert m.key_recall(answer, keys) == pytest.approx(2 / 3)  # 梯度下降 missing: 2 of 3
    assert m.missing_keys(answer, keys) == ["梯度下降"]


def test_key_recall_english_ignores_case_and_punctuation():
    # "Py-Torch" normalises to "pytorch", found; Keras is missing -> 2/3
    answer = "Frameworks: TensorFlow and PyTorch."
    assert m.key_recall(answer, ["tensorflow", "Py-Torch", "Keras"]) == pytest.approx(2 / 3)


def test_key_recall_without_keys_is_not_applicable():
    assert m.key_recall("任何回答", []) is None
    assert m.key_recall("任何回答", ["。"]) is None  # a key with no letters counts as no key


def test_contains_answer():
    assert m.contains_answer("尤金袋鼠约只有8公斤重。", ["约只有8公斤重"])
    assert m.contains_answer("尤金袋鼠约只有8公斤重。", ["８公斤"])  # full-width digit
    assert m.contains_answer("It was found in 1628.", ["1628", "1629"])
    assert not m.contains_answer("尤金袋鼠约只有8公斤重。", ["十公斤"])
    assert not m.contains_answer("任何回答", ["。"])  # an empty gold answer never matches


@pytest.mark.parametrize(
    ("abstained", "expect", "correct"),
    [
        (True, "abstain", True),
        (False, "answer", True),
        (True, "answer", False),
        (False, "abstain", False),
    ],
)
def test_abstain_correct(abstained, expect, correct):
    assert m.abstain_correct(abstained, expect) is correct


# --- retrieval -----------------------------------------------------------------------------------

SECTIONS = [
    "3. 核心算法原理和具体操作步骤 > 3.2 自然语言处理基础",
    "7. 工具和资源推荐 > 7.1 深度学习工具",
    "9. 附录：常见问题与解答",
]


def test_hit_rank_matches_heading_substring():
    assert m.hit_rank(SECTIONS, "7.1 深度学习工具") == 2
    assert m.hit_rank(SECTIONS, "9. 附录") == 3  # a prefix of the heading text is enough
    assert m.hit_rank(SECTIONS, "7. 工具和资源推荐") == 2  # the parent heading matches its child
    assert m.hit_rank(SECTIONS, "8. 总结") is None
    assert m.hit_rank([], "8. 总结") is None


def test_hit_at_k_and_mrr():
    ranks = [1, 3, None, 2]
    assert m.hit_at_k(ranks, 1) == 0.25  # only the first: 1/4
    assert m.hit_at_k(ranks, 3) == 0.75  # ranks 1, 3, 2: 3/4
    assert m.hit_at_k(ranks, 5) == 0.75
    # (1/1 + 1/3 + 0 + 1/2) / 4 = (11/6) / 4 = 11/24
    assert m.mrr(ranks) == pytest.approx(11 / 24)
    assert m.hit_at_k([], 3) is None
    assert m.mrr([]) is None


# --- aggregation ---------------------------------------------------------------------------------


def test_percentile_nearest_rank():
    values = [40, 10, 30, 20]  # sorted: 10 20 30 40
    assert m.percentile(values, 50) == 20  # rank ceil(0.50*4) = 2
    assert m.percentile(values, 95) == 40  # rank ceil(0.95*4) = 4
    assert m.percentile(values, 25) == 10  # rank ceil(0.25*4) = 1
    assert m.percentile([7.5], 95) == 7.5
    hundred = list(range(1, 101))
    assert m.percentile(hundred, 50) == 50  # rank 50
    assert m.percentile(hundred, 95) == 95  # rank 95
    assert m.percentile([], 50) is None
    with pytest.raises(ValueError):
        m.percentile(values, 0)


def test_mean_skips_missing_values():
    assert m.mean([1.0, None, 0.0]) == 0.5
    assert m.mean([None]) is None


# --- CMRC 2018 -----------------------------------------------------------------------------------


def test_cmrc_segments_chinese_characters_and_english_words():
    # lower-cased; "bert" one word, 模 型 one segment each, （ ） removed, "2018" one number
    assert m.cmrc_segments("BERT模型（2018年）", remove_punctuation=True) == [
        "bert",
        "模",
        "型",
        "2018",
        "年",
    ]
    # without removal the listed punctuation marks are segments of their own
    assert m.cmrc_segments("BERT模型（2018年）") == ["bert", "模", "型", "（", "2018", "年", "）"]
    # a decimal number stays one token (as nltk.word_tokenize keeps it)
    assert m.cmrc_segments("约8.5公斤") == ["约", "8.5", "公", "斤"]


def test_cmrc_em():
    assert m.cmrc_em("《踢爆》", ["踢爆"]) == 1.0  # 《 》 are in the script's punctuation list
    assert m.cmrc_em("TensorFlow ", ["tensorflow"]) == 1.0  # lower-cased and trimmed
    assert m.cmrc_em("踢 爆", ["踢爆"]) == 0.0  # inner spaces are kept, as in the script
    assert m.cmrc_em("生命数耗完即算为踢爆", ["踢爆"]) == 0.0
    assert m.cmrc_em("4分钟", ["四分钟", "4分钟"]) == 1.0  # any gold answer


def test_cmrc_f1_chinese():
    # prediction 生命数耗完即算为踢爆 (10 characters after removing 。), gold 踢爆 (2):
    # longest common run 2 -> P 2/10, R 2/2 -> F1 = 2*0.2*1/1.2 = 1/3
    assert m.cmrc_f1("生命数耗完即算为踢爆。", ["踢爆"]) == pytest.approx(1 / 3)
    # the best gold answer counts: 算为踢爆 (4) -> P 4/10, R 1 -> F1 = 0.8/1.4 = 4/7
    assert m.cmrc_f1("生命数耗完即算为踢爆。", ["踢爆", "算为踢爆"]) == pytest.approx(4 / 7)
    # the common part must be contiguous: 踢球爆 vs 踢爆 -> run 1 -> P 1/3, R 1/2 -> F1 = 0.4
    assert m.cmrc_f1("踢球爆", ["踢爆"]) == pytest.approx(0.4)
    assert m.cmrc_f1("无关", ["踢爆"]) == 0.0


def test_cmrc_f1_english_words():
    # segments in / 1628 / by / survivors (4), gold 1628 (1): run 1 -> P 1/4, R 1 -> F1 = 0.4
    assert m.cmrc_f1("in 1628 by survivors", ["1628"]) == pytest.approx(0.4)
    assert m.cmrc_f1("", ["1628"]) == 0.0


# --- counting rules of the summary (contracts.md) ------------------------------------------------


def _passage(section: str, document: str = "ai_large_models_survey.md", text: str = "") -> Passage:
    return Passage(
        id=section, document=document, section=section, text=text, score=0.5, keyword=0.5, dense=0.5
    )


def test_summary_counts_each_metric_over_the_right_items():
    retrieved = [_passage(s) for s in SECTIONS]
    items = [
        # source at rank 2, both keys in the answer
        EvalItem(
            "a", "q", "前向传播和反向传播", keys=("前向传播", "反向传播"), source="7.1 深度学习工具"
        ),
        # source not retrieved; no keys
        EvalItem("b", "q", "参考答案", source="8. 总结"),
        # no source, one of two keys
        EvalItem("c", "q", "TensorFlow", keys=("TensorFlow", "Keras")),
        # must abstain
        EvalItem("d", "q", "文档没有", expect="abstain"),
    ]
    answers = [
        ("前向传播和反向传播[1]", False),
        ("别的", False),
        ("TensorFlow", False),
        ("抱歉", True),
    ]
    results = [
        score_item(
            it,
            answer_text=a,
            abstained=ab,
            passages=retrieved,
            latency_ms=10.0 * (i + 1),
            squad=False,
        )
        for i, (it, (a, ab)) in enumerate(zip(items, answers, strict=True))
    ]
    summary = summarize(items, results, squad=False)
    assert tuple(summary) == SUMMARY_KEYS
    assert summary["n"] == 4
    # hit and mrr over a and b only (items with a source): ranks [2, None]
    assert summary["hit_at_1"] == 0.0
    assert summary["hit_at_3"] == 0.5
    assert summary["mrr"] == 0.25  # (1/2 + 0) / 2
    # key recall over a and c only: (1.0 + 0.5) / 2
    assert summary["key_recall"] == 0.75
    # char_f1 over the answerable a, b, c: a 1.0 (citation stripped), b 0.0, c 1.0 -> 2/3
    assert summary["char_f1"] == pytest.approx(0.6667)
    # every item answered or abstained as expected
    assert summary["abstain_accuracy"] == 1.0
    assert summary["abstained_answerable"] == 0.0  # a, b, c answered
    assert summary["abstained_unanswerable"] == 1.0  # d abstained
    assert summary["latency_p50_ms"] == 20.0  # nearest rank 2 of 10, 20, 30, 40
    assert summary["latency_p95_ms"] == 40.0
    assert results[3]["char_f1"] is None and results[3]["hit_rank"] is None
    assert results[0]["hit_rank"] == 2 and results[0]["missing_keys"] == []


def test_squad_hit_needs_the_gold_paragraph_and_a_gold_answer():
    item = EvalItem(
        "s",
        "尤金袋鼠多重？",
        "约只有8公斤重",
        gold_answers=("约只有8公斤重",),
        gold_document="P1.txt",
    )
    retrieved = [
        _passage("", "P2.txt", "别的袋鼠约只有8公斤重"),  # holds the answer, wrong paragraph
        _passage("", "P1.txt", "尤金袋鼠分布在澳洲南部"),  # right paragraph, another chunk
        _passage("", "P1.txt", "尤金袋鼠约只有8公斤重。"),  # the hit
    ]
    result = score_item(
        item,
        answer_text="尤金袋鼠约只有8公斤重。[3]",
        abstained=False,
        passages=retrieved,
        latency_ms=5,
        squad=True,
    )
    assert result["hit_rank"] == 3
    assert result["contains"] is True
    assert result["em"] == 0.0
    # prediction 尤金袋鼠约只有8公斤重 (11 segments), gold 约只有8公斤重 (7): run 7 -> P 7/11, R 1
    # -> F1 = 2*(7/11)/(18/11) = 14/18 = 0.7778
    assert result["f1"] == pytest.approx(0.7778)
    summary = summarize([item], [result], squad=True)
    assert tuple(summary) == (*SUMMARY_KEYS, "em", "f1", "contains")
    assert summary["hit_at_1"] == 0.0 and summary["hit_at_5"] == 1.0
    assert summary["key_recall"] is None  # no item has keys


def test_summary_delta():
    new = {"n": 10, "hit_at_1": 0.9, "key_recall": None, "latency_p50_ms": 40.0}
    old = {"n": 10, "hit_at_1": 0.85, "key_recall": 0.5, "latency_p50_ms": 50.5}
    assert summary_delta(new, old) == {
        "n": 0,
        "hit_at_1": pytest.approx(0.05),
        "key_recall": None,
        "latency_p50_ms": -10.5,
    }
