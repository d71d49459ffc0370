"""Bad input (reliability items 7-9): empty, punctuation-only, huge questions and histories, mixed
scripts, control and zero-width characters. Validation happens before anything is loaded,
retrieved or generated; everything else gets an answer or one clear sentence, never a crash."""

from __future__ import annotations

import pytest

pytest.register_assert_rewrite("answering_fixtures")

from answering_fixtures import ABSTAIN_EN, ABSTAIN_ZH  # noqa: E402

from assistant.api import Assistant  # noqa: E402
from assistant.components import Components  # noqa: E402
from assistant.errors import InvalidQuestionError  # noqa: E402
from assistant.question_check import check_history, check_question, clean_text  # noqa: E402
from assistant.settings import Settings  # noqa: E402

pytest_plugins = ["answering_fixtures"]

LIMIT = 2000

EMPTY = ["", " ", "   \n\t  ", "\u3000\u3000", "\u200b\u200b", "\x00\x07"]
NO_WORDS = ["？？？", "!!!", "？！。，、", "...", "🤖🤖🤖", "😀 ❤️ 👍", "——", "¿¡?!"]


def _one_sentence(message: str) -> None:
    assert message and "\n" not in message and "Traceback" not in message
    assert message.rstrip().endswith(".")
    assert message.count(". ") == 0  # one sentence (semicolons join its two halves)


# -- unit ------------------------------------------------------------------------------------------
@pytest.mark.unit
@pytest.mark.parametrize("question", EMPTY)
def test_empty_question_is_refused(question):
    with pytest.raises(InvalidQuestionError) as excinfo:
        check_question(question, max_chars=LIMIT)
    assert "empty" in str(excinfo.value)
    _one_sentence(str(excinfo.value))


@pytest.mark.unit
@pytest.mark.parametrize("question", NO_WORDS)
def test_punctuation_only_question_is_refused(question):
    with pytest.raises(InvalidQuestionError) as excinfo:
        check_question(question, max_chars=LIMIT)
    assert "no words" in str(excinfo.value)
    _one_sentence(str(excinfo.value))


@pytest.mark.unit
@pytest.mark.parametrize("length", [LIMIT + 1, 10_000, 100_000, 5_000_000])
def test_too_long_question_is_refused_with_its_length(length):
    with pytest.raises(InvalidQuestionError) as excinfo:
        check_question("深" * length, max_chars=LIMIT)
    message = str(excinfo.value)
    assert f"{length} characters" in message and f"limit of {LIMIT}" in message
    _one_sentence(message)


@pytest.mark.unit
def test_question_at_the_limit_is_accepted():
    assert check_question("深" * LIMIT, max_chars=LIMIT) == "深" * LIMIT


@pytest.mark.unit
@pytest.mark.parametrize("question", [None, 42, ["问题"], b"bytes"])
def test_question_that_is_not_text_is_refused(question):
    with pytest.raises(InvalidQuestionError, match="must be text"):
        check_question(question, max_chars=LIMIT)


@pytest.mark.unit
@pytest.mark.parametrize(
    ("raw", "cleaned"),
    [
        ("  深度学习\n\t的基本算法 \r\n有哪些？ ", "深度学习 的基本算法 有哪些？"),
        ("深\u200b度\u200c学\u200d习\ufeff的算法？", "深度学习的算法？"),  # zero-width chars
        ("深度\x00学习\x07的\x1b算法？", "深度学习的算法？"),  # control characters
        ("\u202ePyTorch是谁开发的？\u202c", "PyTorch是谁开发的？"),  # bidi overrides
        (
            "程序员👩\u200d💻喜欢什么？",
            "程序员👩\u200d💻喜欢什么？",
        ),  # an emoji sequence stays whole
        ("What is\rdeep learning?", "What is deep learning?"),
        ("ما هو التعلم العميق؟", "ما هو التعلم العميق؟"),  # right-to-left scripts stay as they are
        ("full\u3000width\u2028line", "full width line"),
        ("lone \ud800 surrogate", "lone surrogate"),
    ],
)
def test_clean_text(raw, cleaned):
    assert clean_text(raw) == cleaned


@pytest.mark.unit
def test_history_is_trimmed_to_the_newest_turns():
    history = [f"第{n}个问题：深度学习是什么？" for n in range(50)]
    turns, trimmed = check_history(history, max_turns=8, max_chars=LIMIT)
    assert trimmed and turns == history[-8:]


@pytest.mark.unit
def test_history_turns_are_cleaned_and_cut():
    turns, trimmed = check_history(
        ["", "  ", "PyTorch\u200b是谁开发的？", "长" * 5000], max_turns=8, max_chars=LIMIT
    )
    assert turns == ["PyTorch是谁开发的？", "长" * LIMIT]
    assert trimmed


@pytest.mark.unit
def test_short_history_is_not_trimmed():
    assert check_history(["PyTorch是谁开发的？"], max_turns=8, max_chars=LIMIT) == (
        ["PyTorch是谁开发的？"],
        False,
    )
    assert check_history(None, max_turns=8, max_chars=LIMIT) == ([], False)


@pytest.mark.unit
@pytest.mark.parametrize("history", ["一个字符串", [None], ["问题", 3], 5])
def test_bad_history_is_refused(history):
    with pytest.raises(InvalidQuestionError, match="history must be a list"):
        check_history(history, max_turns=8, max_chars=LIMIT)


# -- through the Assistant, with nothing loaded ------------------------------------------------------
class _Untouchable:
    """An embedder that fails the test if anything embeds (a retrieval would)."""

    fingerprint = "untouchable"

    def __getattr__(self, name):
        raise AssertionError(f"the embedder was used ({name}) for a question that is invalid")


class _GuardedComponents(Components):
    def build_backend(self, kind):
        raise AssertionError("a backend was built for a question that is invalid")


@pytest.fixture
def guarded_assistant(tmp_path):
    components = _GuardedComponents(
        Settings(data_dir=tmp_path / "data", llm="llamacpp"), embeddings=_Untouchable()
    )
    return Assistant(components=components)


@pytest.mark.unit
@pytest.mark.parametrize("question", [*EMPTY, *NO_WORDS, "深" * 100_000])
def test_invalid_question_loads_and_calls_nothing(guarded_assistant, question):
    with pytest.raises(InvalidQuestionError):
        guarded_assistant.ask(question)
    with pytest.raises(InvalidQuestionError):
        list(guarded_assistant.stream(question, history=["PyTorch是谁开发的？"]))
    assert not (guarded_assistant.settings.data_dir / "chroma").exists()


@pytest.mark.unit
def test_invalid_history_loads_and_calls_nothing(guarded_assistant):
    with pytest.raises(InvalidQuestionError):
        guarded_assistant.ask("那TensorFlow呢？", history="PyTorch是谁开发的？")


# -- real answers ----------------------------------------------------------------------------------
@pytest.mark.integration
def test_fifty_turn_history_is_trimmed_with_a_notice(survey_assistant):
    history = ["GPT-3是什么？", "BERT能做哪些任务？"] * 24 + [
        "深度学习是什么？",
        "PyTorch是谁开发的？",
    ]
    assert len(history) == 50
    answer = survey_assistant.ask("那TensorFlow呢？", history=history)
    assert answer.notices and "most recent 8 turns" in answer.notices[0]
    assert answer.rewritten_question == "TensorFlow是谁开发的？"
    assert "Google" in answer.text and not answer.abstained


@pytest.mark.integration
def test_huge_history_turn_is_cut_with_a_notice(survey_assistant):
    answer = survey_assistant.ask("深度学习有哪些基础算法？", history=["很长的上下文" * 20_000])
    assert answer.notices and "反向传播" in answer.text


@pytest.mark.integration
def test_no_notice_for_a_short_history(survey_assistant):
    assert survey_assistant.ask("那TensorFlow呢？", history=["PyTorch是谁开发的？"]).notices == []


MIXED = [
    # (question, a phrase the answer must contain, or None when any answer or abstention is fine)
    ("深度学习🤖的基本算法有哪些？😀", "反向传播"),
    ("PyTorch是谁开发的？🔥🔥", "Facebook"),
    ("深\u200b度\u200c学\u200d习\ufeff的基本算法有哪些？", "反向传播"),
    ("深度\x00学习\x07的基本\x1b[0m算法有哪些？", "反向传播"),
    ("\u202ePyTorch是谁开发的？\u202c", "Facebook"),
    pytest.param(
        "\u200fمن طور PyTorch؟",  # Arabic, right-to-left, naming PyTorch: "who developed PyTorch?"
        "Facebook",
        marks=pytest.mark.xfail(
            strict=True,
            reason="Arabic question words are not read (answer_kinds.py knows Chinese and "
            "English), so 'who' asks for no name and the first sentence naming PyTorch is quoted",
        ),
    ),
    ("ما هو التعلم العميق؟", None),  # Arabic: "what is deep learning?"
    ("מהי למידה עמוקה?", None),  # Hebrew
    ("Что такое глубокое обучение?", None),  # Cyrillic
    ("深度学習の基本アルゴリズムは何ですか？", None),  # Japanese kana and kanji
    ("Ｐｙｔｏｒｃｈ是谁开发的？", None),  # full-width Latin
    ("深̸度̸学̸习̸的算法？", None),  # combining marks (zalgo)
    ("𠀀𠀁𠀂是什么？", None),  # CJK extension B (outside the BMP)
    ("a" * 1999, None),
    ("1234567890", None),
    ("SELECT * FROM chunks; DROP TABLE chunks;--", None),
    ("{question}{passages}{system} %s %(x)s", None),  # template placeholders
    ("\\x00 \\u0000 ../../etc/passwd", None),
]


@pytest.mark.integration
@pytest.mark.parametrize(("question", "phrase"), MIXED)
def test_mixed_scripts_get_an_answer_or_a_clear_message(survey_assistant, question, phrase):
    try:
        answer = survey_assistant.ask(question)
    except InvalidQuestionError as exc:  # a clear message is acceptable, a crash is not
        assert phrase is None, f"refused a readable question: {exc}"
        _one_sentence(str(exc))
        return
    assert answer.text.strip()
    if phrase:
        assert phrase in answer.text and not answer.abstained
    if answer.abstained:
        assert answer.text in (ABSTAIN_ZH, ABSTAIN_EN) and answer.sources == []
    else:
        assert answer.sources
    assert "\x00" not in answer.question and "\u200b" not in answer.question
