"""Excerpts of passages for the local model: the sentences that hold the question, within a cap."""

from __future__ import annotations

import pytest

from assistant.passage_excerpt import GAP, excerpts
from index.passage import Passage
from index.tokens import count_tokens

# The survey's background section, as the chunker gives it (heading first).
BACKGROUND = (
    "## 1. 背景介绍\n\n"
    "随着计算能力的不断提升和数据规模的不断扩大，人工智能（AI）大模型已经成为了研究和应用的重要领域。"
    "这些大型模型通常涉及到深度学习、自然语言处理、计算机视觉等多个领域的技术，"
    "为我们的日常生活和工作提供了无数的便利和效率。"
    "然而，随着模型规模的增加，也带来了诸多挑战，如计算资源的瓶颈、模型的可解释性、数据的隐私保护等。"
    "因此，在未来的发展趋势和挑战方面，我们需要深入研究和探讨。\n\n"
    "本文将从以下几个方面进行探讨：\n\n"
    "- 核心概念与联系\n- 核心算法原理和具体操作步骤\n- 数学模型公式详细讲解\n"
    "- 具体最佳实践：代码实例和详细解释说明\n- 实际应用场景\n- 工具和资源推荐\n"
    "- 总结：未来发展趋势与挑战\n- 附录：常见问题与解答"
)
TOOLS = (
    "### 7.1 深度学习框架\n\n"
    "- TensorFlow：一个开源的深度学习框架，由Google开发。\n"
    "- PyTorch：一个开源的深度学习框架，由Facebook开发。\n"
    "- Keras：一个开源的深度学习框架，可以运行在TensorFlow、Theano和CNTK上。"
)


def passage(text: str, section: str, *, faq: bool = False) -> Passage:
    meta = {"kind": "faq", "answer": text.split("A: ")[-1]} if faq else {}
    return Passage("id", "survey.md", section, text, 0.7, 0.7, 0.5, meta)


@pytest.mark.unit
def test_a_long_passage_is_cut_to_the_sentences_that_hold_the_question():
    cap = 60
    [body] = excerpts(
        "大模型带来了哪些挑战？", [passage(BACKGROUND, "1. 背景介绍")], cap, count_tokens
    )
    assert "计算资源的瓶颈、模型的可解释性、数据的隐私保护" in body
    assert "核心算法原理和具体操作步骤" not in body  # the outline shares no word with the question
    assert count_tokens(body) <= cap + count_tokens(GAP) * 2 + 2
    assert body.endswith(GAP)  # what was left out is marked
    assert "##" not in body


@pytest.mark.unit
def test_kept_sentences_stay_in_document_order_with_gaps_marked():
    question = "PyTorch和Keras分别是什么？"
    [body] = excerpts(question, [passage(TOOLS, "7.1 深度学习框架")], 60, count_tokens)
    lines = body.splitlines()
    assert lines[0] == GAP  # the TensorFlow line before them is left out
    pytorch = next(i for i, line in enumerate(lines) if "PyTorch：" in line)
    keras = next(i for i, line in enumerate(lines) if "Keras：" in line)
    assert pytorch < keras
    assert "由Google开发" not in body


@pytest.mark.unit
def test_short_passages_faq_records_and_no_cap_are_given_whole():
    faq = passage(
        "Q: AI大模型的挑战是什么？\nA: 计算资源的瓶颈、数据的隐私保护。", "9. 附录", faq=True
    )
    tools = passage(TOOLS, "7.1 深度学习框架")
    long = passage(BACKGROUND, "1. 背景介绍")
    whole = excerpts("挑战是什么？", [faq, tools, long], 0, count_tokens)
    assert whole[2].startswith("随着计算能力") and "附录：常见问题与解答" in whole[2]
    capped = excerpts("挑战是什么？", [faq, tools, long], count_tokens(TOOLS) + 5, count_tokens)
    assert capped[0] == faq.text
    assert capped[1] == whole[1]  # under the cap
    assert capped[2] != whole[2]


@pytest.mark.unit
def test_a_question_sharing_no_word_gets_the_whole_passage():
    """An English question over Chinese text: nothing tells which sentences matter."""
    [body] = excerpts(
        "What challenges do large models face?", [passage(BACKGROUND, "1")], 50, count_tokens
    )
    assert body.startswith("随着计算能力的不断提升") and body.endswith("附录：常见问题与解答")
    assert GAP not in body


@pytest.mark.unit
def test_units_without_question_words_fill_the_cap_from_the_opening():
    [body] = excerpts("隐私保护", [passage(BACKGROUND, "1. 背景介绍")], 120, count_tokens)
    lines = body.splitlines()
    assert lines[0].startswith("随着计算能力的不断提升")  # the opening, as context
    assert any("数据的隐私保护" in line for line in lines)
    assert GAP in lines


@pytest.mark.unit
def test_only_the_local_model_gets_excerpts(tmp_path):
    from assistant.backends import chat_backend
    from assistant.settings import Settings

    settings = Settings(data_dir=tmp_path, llm_passage_tokens=60)
    passages = [passage(BACKGROUND, "1. 背景介绍")]
    question = "大模型带来了哪些挑战？"
    local = chat_backend(settings, "llamacpp", None, count_tokens)
    api = chat_backend(settings, "openai", None, count_tokens)
    system = local.system_prompt("zh")

    def block(backend, passages):
        return backend.passages_block(backend.fit(question, passages, system))

    local_block = block(local, passages)
    api_block = block(api, passages)
    assert "计算资源的瓶颈" in local_block and "计算资源的瓶颈" in api_block
    assert "附录：常见问题与解答" in api_block and "附录：常见问题与解答" not in local_block
    # The local model reads the section's own heading, the API model the whole path.
    nested = [passage(TOOLS, "7. 工具和资源推荐 > 7.1 深度学习框架")]
    assert block(local, nested).startswith("[1]\n<passage>\n7.1 深度学习框架\n")
    assert block(api, nested).startswith("[1]\n<passage>\n7. 工具和资源推荐 > 7.1 深度学习框架\n")


# The survey's BERT example: a sentence, then code whose identifiers hold the word "BERT".
BERT_EXAMPLE = (
    "### 5.2 BERT示例\n\n"
    "BERT是一种基于Transformer架构的大型语言模型，它可以进行自然语言处理任务，如文本分类、命名实体识别等。\n\n"
    "以下是一个BERT的代码实例：\n\n"
    "```python\n"
    "from transformers import BertTokenizer, BertForSequenceClassification\n"
    "import torch\n"
    "tokenizer = BertTokenizer.from_pretrained('bert-base-uncased')\n"
    "model = BertForSequenceClassification.from_pretrained('bert-base-uncased')\n"
    'inputs = tokenizer("Hello, my dog is cute", return_tensors="pt")\n'
    "outputs = model(**inputs)\n"
    "```"
)


@pytest.mark.unit
def test_code_is_shown_only_when_the_question_is_about_code():
    source = [passage(BERT_EXAMPLE, "5.2 BERT示例")]
    cap = 80  # room for code lines after the sentence
    [prose] = excerpts("BERT能做哪些任务？", source, cap, count_tokens)
    assert "文本分类、命名实体识别" in prose
    assert "from_pretrained" not in prose and "```" not in prose
    assert prose.endswith(GAP)  # the code left out is marked
    for question in (
        "BERT示例代码加载了哪个预训练模型？",
        "Which checkpoint does the BERT example load?",
    ):
        [code] = excerpts(question, source, cap, count_tokens)
        assert "bert-base-uncased" in code, question
