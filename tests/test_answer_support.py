"""The checks against invented facts (assistant/answer_evidence.py, answer_support.py), on passages written for them:
a question whose named thing the passages lack is not supported, one they state is; a sentence
that names a company, a number or a name the passages never state is not supported."""

from __future__ import annotations

import pytest

from assistant.answer_evidence import question_support
from assistant.answer_support import sentence_supported, specific_terms
from index.passage import Passage

pytestmark = pytest.mark.unit

KANGAROO = "尤金袋鼠是一种小型袋鼠，分布于澳大利亚南部及西部沿岸的岛屿，体重约为8公斤。"
TOOLS = "TensorFlow：由Google开发的开源深度学习框架。PyTorch：由Facebook开发的深度学习框架。"
CODE = "GPT-3示例：openai.Completion.create(engine='davinci', prompt=p, max_tokens=100)"
NLP = "自然语言处理的基本算法包括词嵌入、循环神经网络和Transformer。"


def passages(*texts: str, section: str = "") -> list[Passage]:
    return [Passage(f"p{n}", "d.md", section, t, 0.8, 0.8, 0.8) for n, t in enumerate(texts)]


@pytest.mark.parametrize(
    ("question", "evidence", "supported"),
    [
        ("尤金袋鼠分布在哪些地区？", KANGAROO, True),
        ("尤金袋鼠分佈在哪些地區？", KANGAROO, True),  # Traditional question, Simplified text
        ("秋明州分布在哪些地区？", KANGAROO, False),  # another place: a near miss
        ("北极狐分布在哪些地区？", KANGAROO, False),  # another animal
        ("2017年4月，北极狐的体重是多少？", KANGAROO, False),  # behind a date phrase
        ("尤金袋鼠的体重大约是多少？", KANGAROO, True),
        ("尤金袋鼠最早是哪一年被发现的？", KANGAROO, False),  # no date in the passage
        ("GPT-3示例里max_tokens设的是多少？", CODE, True),
        ("GPT-3示例里top_p设的是多少？", CODE, False),  # a parameter it never sets
        ("NLP的基本算法有哪些？", NLP, True),  # the acronym of a term the text spells out
        ("What does the GPT-3 example set max_tokens to?", CODE, True),
        ("What does the GPT-4 example set max_tokens to?", CODE, False),
        ("Which algorithms does natural language processing use?", NLP, True),
    ],
)
def test_question_support(question, evidence, supported):
    support = question_support(question, passages(evidence))
    assert support.supported is supported, support
    if not supported:
        assert support.reason  # said in a notice


def test_nothing_retrieved_supports_nothing():
    assert not question_support("尤金袋鼠分布在哪里？", []).supported


@pytest.mark.parametrize(
    ("sentence", "supported"),
    [
        ("TensorFlow由Google开发。", True),
        ("TensorFlow由阿里巴巴开发。", False),  # a company the passage never names
        ("PyTorch由Facebook于2016年开发。", False),  # a year it never gives
        ("PyTorch是Facebook开发的深度学习框架。", True),
        ("PyTorch was developed by Facebook.", True),
        ("PyTorch was developed by Microsoft.", False),
    ],
)
def test_sentence_support(sentence, supported):
    assert sentence_supported(sentence, [TOOLS], "PyTorch是谁开发的？") is supported


def test_specific_terms_are_names_numbers_and_unknown_words():
    terms = specific_terms("阿里巴巴在2019年为秋明州开发了模型。")
    assert {"阿里巴巴", "2019", "秋明州"} <= set(terms)
    assert "模型" not in terms and "开发" not in terms  # ordinary words may be paraphrased


def test_support_links_point_each_sentence_at_its_passage_sentence():
    from assistant.support_links import support_links

    sources = passages(TOOLS, KANGAROO)
    answer = "PyTorch由Facebook开发[1]。尤金袋鼠体重约为8公斤[2]。没有引用的一句。"
    links = support_links(answer, sources)
    assert [(link.source, link.passage_sentence) for link in links] == [
        (1, "PyTorch：由Facebook开发的深度学习框架。"),
        (2, KANGAROO),
    ]
    assert links[0].sentence == "PyTorch由Facebook开发。"


def test_the_sources_panel_marks_the_support():
    from assistant.support_links import support_links
    from ui import chat_view

    sources = passages(TOOLS + "<script>x</script>")
    links = support_links("PyTorch由Facebook开发[1]。", sources)
    panel = chat_view.sources_panel(sources, support=links)
    assert "<mark>PyTorch：由Facebook开发的深度学习框架。</mark>" in panel
    assert "支撑 Support" in panel and "<script>" not in panel
