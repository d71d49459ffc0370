"""Whether one window of the passages states the asked fact (assistant/answer_evidence.py), on
passages written for it: the near miss (right topic, fact absent) abstains, the same question over
a passage that states the fact is answered, in Simplified, Traditional and English questions."""

from __future__ import annotations

import pytest

from assistant.answer_evidence import EvidenceRule, evidence, focus_weights, question_support
from assistant.answer_kinds import asked_kind, holds_kind
from index.passage import Passage

pytestmark = pytest.mark.unit

TOOLS = (
    "TensorFlow：由Google开发的开源深度学习框架，支持分布式训练。\n"
    "Keras：一个高层神经网络API，可以运行在TensorFlow和Theano之上。\n"
    "PyTorch：由Facebook开发的深度学习框架，以动态计算图著称。"
)
HISTORY = (
    "Transformer于2017年由谷歌的研究人员提出。\n"
    "这一结构后来被用于GPT和BERT等模型。\n"
    "论文《Attention Is All You Need》介绍了自注意力机制。"
)
SCATTERED = (
    "边缘计算把计算放在靠近数据的地方。\n"
    "大模型的推理需要大量算力。\n"
    "延迟是实时应用最关心的指标之一。"
)
GPT = "GPT-3的示例代码调用了text-davinci-002引擎，并设置了生成的最大长度。"


def passages(*texts: str, section: str = "7.1 深度学习工具") -> list[Passage]:
    return [Passage(f"p{n}", "d.md", section, t, 0.8, 0.8, 0.8) for n, t in enumerate(texts)]


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("Keras是哪家公司开发的？", "organisation"),
        ("Theano这个框架是哪个机构开发的？", "organisation"),
        ("反向传播算法最早是谁提出的？", "person"),
        ("自注意力机制最早出自哪篇论文？", "title"),
        ("Transformer是哪一年提出的？", "time"),
        ("Transformer是哪一年提出的？".replace("哪一年", "何時"), "time"),
        ("GPT-3一共有多少个参数？", "quantity"),
        ("訓練一個大模型要花多少錢？", "price"),  # Traditional
        ("When was PyTorch first released?", "time"),
        ("Which company developed Keras?", "organisation"),
        ("What is the price per 1,000 tokens?", "price"),
        ("NLTK推荐用哪个版本？", "version"),
        ("Which version of spaCy does the guide use?", "version"),
        ("這個庫有多少個版本？", "quantity"),  # a count of versions, not one
        ("什么是深度学习？", None),
        ("深度学习有哪些工具？", None),
        ("Why is attention useful?", None),
    ],
)
def test_asked_kind(question, kind):
    assert asked_kind(question) == kind


def test_a_version_is_a_number_written_as_one():
    asked = "Which version of NLTK does it recommend?"
    assert not holds_kind("version", "NLTK：一个开源的自然语言处理库，支持50种语言。", asked)
    assert not holds_kind("version", "GPT-3 is a large language model.", asked)
    assert not holds_kind("version", "temperature=0.7, max_tokens=150", asked)
    assert holds_kind("version", "pip install openai==0.27", asked)
    assert holds_kind("version", "The guide installs NLTK 3.8 with pip.", asked)
    assert holds_kind("version", "推荐使用TensorFlow 2.x版本。", "推荐TensorFlow的哪个版本？")
    assert holds_kind("version", "该书第三版于2019年出版。", "该书最新是哪一版？")
    assert holds_kind("version", "该软件另有面向企业的专业版。", "该软件有哪个版本面向企业？")
    assert holds_kind("version", "The Community Edition is free.", "Which version is free?")
    assert not holds_kind("version", "该书于2019年出版，共三百页。", "该书是哪个版本？")


def test_a_name_in_the_question_is_no_answer_of_its_kind():
    # "GPT-3" holds a 3 and "Keras" a capital: neither answers a question that names them.
    assert not holds_kind("quantity", GPT, "GPT-3有多少个参数？")
    assert holds_kind("quantity", "GPT-3有1750亿个参数。", "GPT-3有多少个参数？")
    assert not holds_kind(
        "organisation", "Keras可以运行在多种后端之上。", "Keras是哪家公司开发的？"
    )
    assert holds_kind("organisation", "Keras由谷歌公司维护。", "Keras是哪家公司开发的？")
    assert holds_kind("time", "PyTorch于2016年发布。", "PyTorch是哪一年发布的？")
    # Traditional text is read as Simplified: 醫院 is 医院, 期間 is 期间.
    assert holds_kind("organisation", "該系統由臺北榮民總醫院研發。", "該系統是哪家醫院研發的？")
    assert holds_kind("time", "他在大學期間開始寫作。", "他是什麼時候開始寫作的？")
    # A product beside the asked one is no maker; a name in the role of one is.
    asked = "Which company developed Keras?"
    assert not holds_kind("organisation", "Keras runs on top of TensorFlow.", asked)
    assert holds_kind("organisation", "Keras was developed by Google engineers.", asked)
    assert holds_kind("organisation", "Keras由Google的工程师开发。", "Keras是哪家公司开发的？")


def test_the_word_that_names_the_kind_counts_little():
    weights = focus_weights("Keras是哪家公司开发的？")
    assert weights["keras"] > weights["开发"] > weights["公司"]
    assert "哪家" not in weights and "是" not in weights


@pytest.mark.parametrize(
    ("question", "texts", "supported"),
    [
        ("TensorFlow是哪家公司开发的？", [TOOLS], True),
        ("Keras是哪家公司开发的？", [TOOLS], False),  # the near miss: no company in its line
        ("Keras是哪家公司開發的？", [TOOLS], False),  # Traditional
        ("PyTorch是哪家公司开发的？", [TOOLS], True),
        ("Transformer是哪一年提出的？", [HISTORY], True),
        pytest.param(
            "GPT是哪一年提出的？",
            [HISTORY],
            False,
            marks=pytest.mark.xfail(
                strict=True,
                reason="a known miss: the line with the year holds 提出, half of this short "
                "question's focus; requiring the subject in the window lost answerable CMRC "
                "items on dev and caught no more near misses, so it was not kept",
            ),
        ),
        ("自注意力机制最早出自哪篇论文？", [HISTORY], True),
        ("边缘计算能把大模型的推理延迟降低多少？", [SCATTERED], False),  # words scattered
        ("GPT-3示例调用的是什么引擎？", [GPT], True),
        ("GPT-3一共有多少个参数？", [GPT], False),  # only the digits of names
        ("Which company developed TensorFlow?", [TOOLS], True),
        ("Which company developed Keras?", [TOOLS], False),
        ("When was PyTorch first released?", [TOOLS], False),
    ],
)
def test_question_support_needs_one_window_that_states_it(question, texts, supported):
    support = question_support(question, passages(*texts))
    assert support.supported is supported, support
    if supported:
        assert support.evidence and support.evidence[0].focus >= EvidenceRule().min_focus
    else:
        assert support.reason and not support.evidence


def test_the_best_window_is_the_sentence_that_states_it():
    found = evidence("PyTorch是哪家公司开发的？", passages(TOOLS))
    assert found[0].units == ("PyTorch：由Facebook开发的深度学习框架，以动态计算图著称。",)


def test_a_sentence_is_read_with_the_subject_its_line_named():
    # Chinese drops a subject once named: the second sentence states the maker of BERT.
    text = "BERT是一种双向编码模型。它由Google的研究团队提出。"
    question = "BERT是哪家公司提出的？"
    alone = EvidenceRule(topic_sentence=False)
    assert not question_support(question, passages(text), alone).supported
    assert question_support(
        question, passages(text), EvidenceRule(window=2, topic_sentence=False)
    ).supported
    assert question_support(question, passages(text)).supported
    # On two lines the sentences state two facts: the name on the next line answers nothing.
    apart = text.replace("。它", "。\n它")
    assert not question_support(question, passages(apart)).supported
    assert not question_support(question, passages(apart), EvidenceRule(window=2)).supported


def test_the_kind_check_can_be_measured_off():
    # What the tuning benchmark uses as its baseline: without the kind check the near miss passes.
    rule = EvidenceRule(check_kind=False)
    assert question_support("Keras是哪家公司开发的？", passages(TOOLS), rule).supported


LISTED = (
    "- TensorFlow：由Google开发的开源框架。\n- PyTorch：由Facebook开发的框架。\n- Keras：高层API。"
)


def test_the_extractive_answer_is_the_sentence_that_states_it():
    from assistant.extractive import extract_answer

    text, cited = extract_answer("PyTorch是哪家公司开发的？", passages(TOOLS, HISTORY), "zh")
    assert text == "PyTorch：由Facebook开发的深度学习框架，以动态计算图著称。[1]"
    assert cited == [1]


def test_a_question_for_several_things_gets_the_whole_list():
    from assistant.extractive import extract_answer

    text, _ = extract_answer("有哪些深度学习框架？", passages(LISTED), "zh")
    assert text.splitlines() == [f"{line}[1]" for line in LISTED.splitlines()]
    # One item is what states one fact: the maker of Keras is not read off its neighbours.
    assert not question_support("Keras是哪家公司开发的？", passages(LISTED)).supported


def test_an_acronym_counts_where_the_passages_spell_it_out():
    from assistant.answer_evidence import acronym_aliases

    spelled = passages("自然语言处理（NLP）是大模型的重要应用领域，包括机器翻译。")
    assert acronym_aliases("NLP有哪些应用？", spelled) == {"nlp": "自然语言处理"}
    assert acronym_aliases("NLP有哪些应用？", passages(TOOLS)) == {}


def test_a_common_noun_a_question_opens_with_need_not_be_in_the_passages():
    # "方面", "方向", "大家" say where a user is looking, not what the answer is about: a
    # passage on 图像 tools answers "图像方面…" without the word 方面.
    from assistant.answer_support import subject

    assert subject("图像方面的研究通常用哪些工具？") == ["图像"]
    assert subject("语音方向主要做哪些任务？") == ["语音"]
    tools = "图像处理工具包括：\n- OpenCV：开源的计算机视觉库\n- Pillow：图像读写库"
    assert question_support("图像方面的研究通常用哪些工具？", passages(tools)).supported
    # A specific subject is still required: a passage on 图像 does not answer about 声呐.
    assert not question_support("声呐方面的研究通常用哪些工具？", passages(tools)).supported


def test_a_code_fence_marker_is_no_unit_to_quote():
    from assistant.passage_units import passage_units

    text = "以下是调用示例：\n```python\nclient.run(size=3)\n```"
    units = [u.text for u in passage_units(passages(text)[0])]
    assert "```python" not in units and "```" not in units
    assert "client.run(size=3)" in units
