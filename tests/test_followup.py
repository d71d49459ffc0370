"""Follow-up questions: the rule-based rewriter (unit) and follow-ups answered end to end."""

from __future__ import annotations

import pytest

pytest.register_assert_rewrite("answering_fixtures")

from answering_fixtures import assert_well_cited  # noqa: E402

from assistant.followup import rewrite_followup, subject_of  # noqa: E402

pytest_plugins = ["answering_fixtures"]


# -- the rewriter ----------------------------------------------------------------------------------
@pytest.mark.unit
@pytest.mark.parametrize(
    ("history", "question", "rewritten"),
    [
        (["PyTorch是谁开发的？"], "那TensorFlow呢？", "TensorFlow是谁开发的？"),
        (["PyTorch是谁开发的？"], "TensorFlow呢", "TensorFlow是谁开发的？"),
        (["GPT-3是什么？"], "那BERT怎么样？", "BERT是什么？"),
        (["什么是深度学习？"], "它的基本算法有哪些？", "深度学习的基本算法有哪些？"),
        (["什么是深度学习？"], "它的数学模型包括哪些？", "深度学习的数学模型包括哪些？"),
        (["自然语言处理有哪些应用场景？"], "它有哪些工具？", "自然语言处理有哪些工具？"),
        (["自然语言处理有哪些应用场景？"], "有哪些工具？", "自然语言处理有哪些工具？"),
        (["自然语言处理有哪些应用场景？"], "计算机视觉的呢？", "计算机视觉有哪些应用场景？"),
        (["计算机视觉有哪些应用？"], "为什么？", "计算机视觉有哪些应用，为什么？"),
        (
            ["未来要关注哪些新的算法和模型？"],
            "这样做是为了提高什么？",
            "未来要关注哪些新的算法和模型，这样做是为了提高什么？",
        ),
        (["如何解决计算资源瓶颈？"], "此举有什么好处？", "如何解决计算资源瓶颈，此举有什么好处？"),
        # A choice among what the previous answer listed is asked together with it:
        (
            ["文中推荐了哪些深度学习工具？"],
            "其中哪些是开源的？",
            "文中推荐了哪些深度学习工具，其中哪些是开源的？",
        ),
        (["文中推薦了哪些工具？"], "哪一個最常用？", "文中推薦了哪些工具，哪一個最常用？"),
        # The subject follows how the question names the text ("文中说的…"):
        (["文中说的AI大模型是指什么？"], "它有哪些例子？", "AI大模型有哪些例子？"),
        # A short question after one whose subject is not its head is asked together with it:
        (
            ["在AI大模型领域做技术创新，需要关注几个方面？"],
            "具体是哪些？",
            "在AI大模型领域做技术创新，需要关注几个方面，具体是哪些？",
        ),
        # A noun after the pronoun that repeats the subject's end is not written twice:
        (["文中说的AI大模型是指什么？"], "这些模型有哪些例子？", "AI大模型有哪些例子？"),
        (["GPT-3是什麼？"], "這個模型能生成什麼？", "GPT-3模型能生成什麼？"),
        (
            ["Which model does the BERT example load?"],
            "And what sentence is passed to the tokenizer?",
            "Which model does the BERT example load; And what sentence is passed to the tokenizer?",
        ),
        (["Who developed PyTorch?"], "What about TensorFlow?", "Who developed TensorFlow?"),
        (["Who developed PyTorch?"], "And TensorFlow?", "Who developed TensorFlow?"),
        (["Who developed PyTorch?"], "Who developed that?", "Who developed PyTorch?"),
        (
            ["What is deep learning?"],
            "What are its basic algorithms?",
            "What are deep learning's basic algorithms?",
        ),
    ],
)
def test_followup_is_rewritten(history, question, rewritten):
    assert rewrite_followup(question, history) == rewritten


@pytest.mark.unit
@pytest.mark.parametrize(
    ("history", "question"),
    [
        (["PyTorch是谁开发的？"], "计算机视觉有哪些应用场景？"),
        # Standalone questions that end like a follow-up or hold a pronoun-like character:
        (["PyTorch是谁开发的？"], "AI大模型未来的发展趋势如何？"),
        (["PyTorch是谁开发的？"], "AI大模型的挑战是什么呢？"),
        (["PyTorch是谁开发的？"], "大模型还能用在哪些其他领域？"),
        (["PyTorch是谁开发的？"], "深度学习框架中哪一个由Google开发？"),
        (["深度学习是什么？"], "深度学习及其应用有哪些？"),
        (["Who developed PyTorch?"], "What are the tools that support NLP?"),
        (["Who developed PyTorch?"], "And what is BERT?"),
        (["Who developed PyTorch?"], "What is the capital of France?"),
    ],
)
def test_standalone_question_is_not_rewritten(history, question):
    assert rewrite_followup(question, history) is None


@pytest.mark.unit
def test_no_history_means_no_rewrite():
    assert rewrite_followup("那TensorFlow呢？", []) is None


@pytest.mark.unit
def test_chained_followups_resolve_through_earlier_turns():
    history = ["深度学习的基本算法有哪些？", "那自然语言处理呢？"]
    assert rewrite_followup("计算机视觉呢？", history) == "计算机视觉的基本算法有哪些？"
    history = ["PyTorch是谁开发的？", "那TensorFlow呢？"]
    assert rewrite_followup("Keras呢？", history) == "Keras是谁开发的？"
    # A choice among the listed things that names one of them is a question of its own.
    history = ["文中列出了哪些深度学习框架？", "其中PyTorch是谁开发的？"]
    assert rewrite_followup("Keras呢？", history) == "Keras是谁开发的？"
    # One that names none is asked together with the list, and the list's subject goes on.
    history = ["文中列出了哪些深度学习框架？", "其中哪一个最早？"]
    assert (
        rewrite_followup("那计算机视觉工具呢？", history)
        == "文中列出了哪些计算机视觉工具，其中哪一个最早？"
    )


@pytest.mark.unit
@pytest.mark.parametrize(
    ("question", "subject"),
    [
        ("PyTorch是谁开发的？", "PyTorch"),
        ("什么是深度学习？", "深度学习"),
        ("AI大模型的挑战是什么？", "AI大模型"),
        ("Who developed PyTorch?", "PyTorch"),
        ("What is deep learning?", "deep learning"),
    ],
)
def test_subject_of_a_question(question, subject):
    assert subject_of(question) == subject


@pytest.mark.unit
def test_long_history_does_not_recurse_too_deeply():
    history = ["PyTorch是谁开发的？"] + ["那TensorFlow呢？", "那PyTorch呢？"] * 2000
    assert rewrite_followup("Keras呢？", history) == "Keras是谁开发的？"


# -- end to end ----------------------------------------------------------------------------------
@pytest.mark.integration
def test_new_subject_followup_is_answered(survey_assistant):
    answer = survey_assistant.ask("那TensorFlow呢？", history=["PyTorch是谁开发的？"])
    assert answer.rewritten_question == "TensorFlow是谁开发的？"
    assert "Google" in answer.text and "Facebook" not in answer.text
    assert answer.question == "那TensorFlow呢？"
    assert_well_cited(answer)


@pytest.mark.integration
def test_pronoun_followup_is_answered(survey_assistant):
    answer = survey_assistant.ask("它的基本算法有哪些？", history=["什么是深度学习？"])
    assert answer.rewritten_question == "深度学习的基本算法有哪些？"
    for key in ("前向传播", "反向传播", "梯度下降"):
        assert key in answer.text
    assert "3.1 深度学习基础" in answer.sources[0].section


@pytest.mark.integration
def test_english_followup_is_answered(survey_assistant):
    answer = survey_assistant.ask("What about TensorFlow?", history=["Who developed PyTorch?"])
    assert answer.rewritten_question == "Who developed TensorFlow?"
    assert "Google" in answer.text
    assert answer.text.startswith("According to the documents")


@pytest.mark.integration
def test_chained_followup_is_answered(survey_assistant):
    history = ["深度学习的基本算法有哪些？", "那自然语言处理呢？"]
    answer = survey_assistant.ask("计算机视觉呢？", history=history)
    assert answer.rewritten_question == "计算机视觉的基本算法有哪些？"
    assert "卷积神经网络" in answer.text
    assert "3.3 计算机视觉基础" in answer.sources[0].section


@pytest.mark.integration
def test_question_with_history_that_is_not_a_followup(survey_assistant):
    answer = survey_assistant.ask("计算机视觉有哪些实际应用？", history=["PyTorch是谁开发的？"])
    assert answer.rewritten_question is None
    assert "自动驾驶" in answer.text


@pytest.mark.integration
def test_rewrite_cannot_rescue_a_question_outside_the_documents(survey_assistant):
    answer = survey_assistant.ask("那红烧肉呢？", history=["PyTorch是谁开发的？"])
    assert answer.rewritten_question == "红烧肉是谁开发的？"
    assert answer.abstained
