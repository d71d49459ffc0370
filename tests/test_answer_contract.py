"""The one answer contract: everything an edge shows comes from ``Answer`` (retrieved passages,
what the model read, the question as understood, abstention and its reason, an error), and one
history policy serves the CLI and the web app alike."""

from __future__ import annotations

import re

import pytest

pytest.register_assert_rewrite("answering_fixtures")

from answering_fixtures import ABSTAIN_ZH, fake_chat  # noqa: E402

from assistant.answer import Answer  # noqa: E402
from assistant.api import Assistant  # noqa: E402
from assistant.conversation import next_history  # noqa: E402

pytest_plugins = ["answering_fixtures"]


def _answer(**fields) -> Answer:
    base = dict(
        question="它有多少参数？",
        text="x",
        sources=[],
        abstained=False,
        rewritten_question=None,
        backend="extractive",
    )
    return Answer(**{**base, **fields})


@pytest.mark.unit
def test_history_keeps_the_question_as_answered():
    rewritten = _answer(rewritten_question="BERT有多少参数？")
    assert next_history(["什么是BERT？"], rewritten) == ["什么是BERT？", "BERT有多少参数？"]
    plain = _answer(question="什么是GPT？")
    assert next_history([], plain) == ["什么是GPT？"]


@pytest.mark.unit
def test_history_skips_a_failed_or_unfinished_turn():
    history = ["什么是BERT？"]
    assert next_history(history, _answer(error="The 'openai' backend failed")) == history
    assert next_history(history, _answer(done=False)) == history
    assert next_history(history, _answer()) is not history  # never the caller's list


@pytest.mark.integration
def test_the_stream_publishes_the_answer_before_its_text(survey_assistant):
    stream = survey_assistant.stream("那TensorFlow呢？", history=["PyTorch是谁开发的？"])
    pieces = iter(stream)
    first = next(pieces)
    begun = stream.answer
    assert first and begun is not None and not begun.done and begun.text == ""
    assert begun.rewritten_question == "TensorFlow是谁开发的？"
    assert begun.retrieved and begun.evidence
    assert [e.number for e in begun.evidence] == list(range(1, len(begun.evidence) + 1))
    rest = "".join(pieces)
    answer = stream.answer
    assert answer.done and answer.text == (first + rest).strip()
    assert answer.abstain_reason is None and answer.error is None
    # Retrieved best first with 0-1 scores; the sources are among what the model read.
    scores = [p.score for p in answer.retrieved]
    assert scores == sorted(scores, reverse=True) and all(0 <= s <= 1 for s in scores)
    read = {e.passage.id for e in answer.evidence}
    assert answer.sources and {s.id for s in answer.sources} <= read


@pytest.mark.integration
def test_an_off_topic_abstention_says_why_and_keeps_the_closest(survey_assistant):
    answer = survey_assistant.ask("如何做红烧肉？")
    assert answer.abstained and answer.sources == [] and answer.evidence == []
    assert answer.abstain_reason == "no passage is relevant enough to the question"
    assert answer.retrieved  # the closest passages, for a "closest passages" panel


@pytest.mark.integration
def test_a_model_abstention_has_its_own_reason(survey_components):
    assistant = Assistant(
        components=survey_components.with_chat_model("openai", fake_chat([ABSTAIN_ZH]))
    )
    answer = assistant.ask("PyTorch是谁开发的？", llm="openai")
    assert answer.abstained and answer.abstain_reason == "the model found no answer in the passages"
    assert answer.evidence  # it read passages, and found nothing in them


@pytest.mark.integration
def test_the_model_reads_exactly_the_evidence_on_the_answer(survey_components):
    """Passages are fitted to the window once: the prompt holds each piece of evidence's text,
    fenced under its number, and nothing else from the documents."""
    seen: list = []
    model = fake_chat(["PyTorch由Facebook开发[1]。"], seen=seen)
    assistant = Assistant(
        components=survey_components.with_chat_model("llamacpp", model),
        llm_context_tokens=900,  # a small window: passages are cut to fit it
        llm_passage_tokens=0,
    )
    answer = assistant.ask("PyTorch和TensorFlow分别是谁开发的？", llm="llamacpp")
    human = seen[0][1].content
    blocks = re.findall(r"^\[(\d+)\]\n<passage>\n(.*?)\n</passage>", human, re.M | re.S)
    assert [int(n) for n, _ in blocks] == [e.number for e in answer.evidence]
    for (_, block), evidence in zip(blocks, answer.evidence, strict=True):
        body = block.split("\n", 1)[1]
        assert body == evidence.text.strip() + ("…" if evidence.cut else "")
        assert evidence.text.strip() in evidence.passage.text  # an excerpt of its passage


@pytest.mark.integration
def test_web_and_cli_keep_the_same_history(survey_assistant):
    from ui.chat_turns import new_session, run_turn

    session = new_session()
    for question in ("PyTorch是谁开发的？", "那TensorFlow呢？"):
        *_, last = run_turn(survey_assistant, question, session, llm="extractive")
        session = last.session
    expected: list[str] = []
    for question in ("PyTorch是谁开发的？", "那TensorFlow呢？"):
        expected = next_history(expected, survey_assistant.ask(question, expected or None))
    assert session["turns"] == expected == ["PyTorch是谁开发的？", "TensorFlow是谁开发的？"]
