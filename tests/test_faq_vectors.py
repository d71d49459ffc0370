"""FAQ question vectors are computed once, at index time, and the FAQ match reads them instead of
embedding every retrieved record's question again on each query."""

from __future__ import annotations

import json

import numpy as np
import pytest

from assistant.components import Components
from assistant.faq_match import best_faq_match
from assistant.settings import Settings
from index import faq_vectors
from index.hashing_embeddings import HashingEmbeddings

FAQ = [
    {"question": "企鹅生活在哪里？", "answer": "企鹅主要生活在南半球，尤其是南极洲。"},
    {"question": "海豹吃什么？", "answer": "海豹以鱼类、乌贼和甲壳类动物为食。"},
]


class CountingEmbeddings(HashingEmbeddings):
    """The hashing embedder, counting the texts it is asked to embed."""

    def __init__(self):
        self.embedded: list[str] = []

    def embed_documents(self, texts):
        self.embedded.extend(texts)
        return super().embed_documents(texts)


@pytest.mark.unit
def test_a_vector_survives_the_round_trip_exactly():
    vector = np.random.default_rng(7).standard_normal(384).astype(np.float32)
    assert np.array_equal(faq_vectors.decode(faq_vectors.encode(vector)), vector)


@pytest.mark.unit
@pytest.mark.parametrize("stored", [None, "", 3, "not base64!", "AAA=", "AAAAAA"])
def test_a_missing_or_damaged_vector_reads_as_none(stored):
    assert faq_vectors.decode(stored) is None


@pytest.fixture
def faq_kb(tmp_path):
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "animals.jsonl").write_text(
        "\n".join(json.dumps(r, ensure_ascii=False) for r in FAQ) + "\n", encoding="utf-8"
    )
    embeddings = CountingEmbeddings()
    settings = Settings(data_dir=tmp_path / "data", embedder="hashing", llm="extractive")
    components = Components(settings, embeddings=embeddings)
    report = components.indexer().index_paths([folder])
    assert report.documents == 1 and not report.errors
    return components, embeddings


@pytest.mark.integration
def test_each_faq_chunk_stores_its_question_vector(faq_kb):
    components, embeddings = faq_kb
    stored = components.knowledge_base().stores().vector_store.get_records()
    faqs = [
        (meta["question"], meta[faq_vectors.KEY]) for _, _, meta in stored if meta.get("question")
    ]
    assert sorted(q for q, _ in faqs) == sorted(r["question"] for r in FAQ)
    for question, text in faqs:
        assert np.allclose(faq_vectors.decode(text), embeddings.embed_query(question))


@pytest.mark.integration
def test_the_match_embeds_only_the_asked_question(faq_kb):
    from assistant.api import Assistant

    components, embeddings = faq_kb
    passages = Assistant(components=components).retrieve("企鹅生活在哪里呢？", 5)
    assert sum(p.is_faq for p in passages) == 2
    embeddings.embedded.clear()
    match = best_faq_match("企鹅生活在哪里呢？", passages, embeddings)
    assert embeddings.embedded == ["企鹅生活在哪里呢？"]
    assert match is not None and match[0].metadata["question"] == "企鹅生活在哪里？"
    # A record without a stored vector (indexed by an earlier version) is embedded as before,
    # with the same result.
    from dataclasses import replace

    bare = [
        replace(p, metadata={k: v for k, v in p.metadata.items() if k != faq_vectors.KEY})
        for p in passages
    ]
    embeddings.embedded.clear()
    again = best_faq_match("企鹅生活在哪里呢？", bare, embeddings)
    assert len(embeddings.embedded) == 3 and again[0].id == match[0].id
    assert again[1] == pytest.approx(match[1])


@pytest.mark.integration
def test_the_stored_vector_stays_out_of_langchain_documents(faq_kb):
    from assistant.api import Assistant

    components, _ = faq_kb
    documents = Assistant(components=components).as_retriever(k=2).invoke("企鹅生活在哪里？")
    assert documents and documents[0].metadata.get("question") == "企鹅生活在哪里？"
    assert all(faq_vectors.KEY not in d.metadata for d in documents)
