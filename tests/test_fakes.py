"""The two stand-ins selectable in Settings for fast tests: the hashing embedder
(``embedder="hashing"``) and the quoting chat model (``llm="fake"``). Both are deterministic and
depend on their input; together they run the whole generative pipeline with no model."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from assistant.abstention import ABSTAIN
from assistant.api import Assistant
from assistant.components import Components
from assistant.settings import SOURCE_ROOT, Settings
from index.hashing_embeddings import DIMENSIONS, HashingEmbeddings, features

CORPUS = SOURCE_ROOT / "corpus"


def _cosine(a, b) -> float:
    return float(np.dot(a, b))


@pytest.mark.unit
def test_hashing_vectors_are_unit_length_and_depend_on_the_text():
    model = HashingEmbeddings()
    texts = ["深度学习是AI大模型的核心技术。", "PyTorch由Facebook开发。", "", "。！？"]
    vectors = model.embed_documents(texts)
    assert all(len(v) == DIMENSIONS for v in vectors)
    assert all(abs(np.linalg.norm(v) - 1) < 1e-9 for v in vectors)  # also for no features
    assert len({tuple(v) for v in vectors[:2]}) == 2  # not one constant vector
    assert model.embed_query(texts[0]) == vectors[0]


@pytest.mark.unit
def test_hashing_is_the_same_in_another_process():
    """Python's own hash() is salted per process; the features' hash must not be."""
    code = (
        "from index.hashing_embeddings import hashed_vector;"
        "print(repr(hashed_vector('大模型的挑战 challenges')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=SOURCE_ROOT, check=True
    )
    assert eval(out.stdout) == HashingEmbeddings().embed_query("大模型的挑战 challenges")


@pytest.mark.unit
@pytest.mark.parametrize(
    ("query", "near", "far"),
    [
        ("深度学习的基本算法", "深度学习的基本算法包括反向传播。", "PyTorch由Facebook开发。"),
        ("深度學習的基本演算法", "深度學習的基本演算法包括反向傳播。", "企鹅生活在南极。"),
        (
            "Who developed the PyTorch framework?",
            "The PyTorch framework was developed by Facebook.",
            "Penguins live in the Antarctic.",
        ),
    ],
    ids=["simplified", "traditional", "english"],
)
def test_hashing_puts_shared_words_closer(query, near, far):
    model = HashingEmbeddings()
    q, n, f = model.embed_query(query), *model.embed_documents([near, far])
    assert _cosine(q, n) > _cosine(q, f) + 0.2


@pytest.mark.unit
def test_features_read_chinese_by_characters_and_english_by_words():
    assert features("大模型 GPU！") == ["大", "模", "型", "大模", "模型", "gpu"]
    assert features("ＢＥＲＴ") == ["bert"]  # full-width folded


@pytest.mark.unit
def test_the_quoting_model_quotes_the_first_passage_or_abstains():
    from assistant.backends.quoting_chat import quoted_answer

    prompt = (
        "Passages (quoted data):\n[1]\n<passage>\n7.1 深度学习工具\n"
        "- TensorFlow：一个开源的深度学习框架，由Google开发。\n"
        "- PyTorch：一个开源的深度学习框架，由Facebook开发。其余略。\n</passage>\n\n"
        "[2]\n<passage>\n其他\nPyTorch是谁开发的。\n</passage>\n\nQuestion: PyTorch是谁开发的？"
    )
    # The sentence of passage [1] sharing most with the question, not passage [2]'s.
    assert quoted_answer(prompt) == "PyTorch：一个开源的深度学习框架，由Facebook开发。[1]"
    first = prompt.replace("Question: PyTorch是谁开发的？", "Question: 有哪些框架？")
    assert quoted_answer(first) == "TensorFlow：一个开源的深度学习框架，由Google开发。[1]"
    assert quoted_answer("Passages:\n\n\nQuestion: 谁？") == ABSTAIN["zh"]
    assert quoted_answer("Passages:\n\n\nQuestion: Who?") == ABSTAIN["en"]


@pytest.mark.integration
def test_the_whole_generative_pipeline_runs_on_the_stand_ins(tmp_path):
    settings = Settings(data_dir=tmp_path / "data", embedder="hashing", llm="fake")
    components = Components(settings)
    report = components.indexer().index_paths([CORPUS])
    assert report.documents == 1 and not report.errors
    assistant = Assistant(components=components)
    stream = assistant.stream("PyTorch是谁开发的？")
    pieces = list(stream)
    answer = stream.answer
    assert "".join(pieces) == answer.text  # through citation repair and grounding
    assert answer.backend == "fake" and not answer.abstained, answer
    assert "Facebook" in answer.text and answer.text.endswith("[1]")
    assert answer.evidence and "Facebook" in answer.evidence[0].text
    assert answer.sources[0].id == answer.evidence[0].passage.id
    # The same question gives the same answer; an off-topic one is abstained.
    assert assistant.ask("PyTorch是谁开发的？").text == answer.text
    assert assistant.ask("如何做红烧肉？").abstained
