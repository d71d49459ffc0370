"""LangChain's own standard tests for what this project hands to LangChain users: the hybrid
retriever (``Assistant.as_retriever``) and the embedders. The store wrapper (``ChunkCollection``)
does not implement LangChain's ``VectorStore``; it is reached through the retriever."""

from __future__ import annotations

import pytest
from langchain_tests.integration_tests import (
    EmbeddingsIntegrationTests,
    RetrieversIntegrationTests,
)

from assistant.components import Components
from assistant.settings import SOURCE_ROOT, Settings
from index.embeddings import E5Embeddings
from index.hashing_embeddings import HashingEmbeddings
from index.langchain_retriever import HybridRetriever

pytestmark = pytest.mark.integration


class TestHybridRetriever(RetrieversIntegrationTests):
    """Over the survey, indexed once in a temporary data directory (the hashing embedder: the
    retriever's contract does not depend on which embedder fills the store)."""

    searcher = None

    @pytest.fixture(scope="class", autouse=True)
    @classmethod
    def _indexed_survey(cls, tmp_path_factory):
        settings = Settings(data_dir=tmp_path_factory.mktemp("retriever"), embedder="hashing")
        components = Components(settings)
        report = components.indexer().index_paths([SOURCE_ROOT / "corpus"])
        assert report.documents == 1 and report.chunks > 20
        from index.retrieval import HybridSearcher

        cls.searcher = HybridSearcher(components.knowledge_base())

    @property
    def retriever_constructor(self) -> type[HybridRetriever]:
        return HybridRetriever

    @property
    def retriever_constructor_params(self) -> dict:
        return {"searcher": type(self).searcher, "k": 5}

    @property
    def retriever_query_example(self) -> str:
        return "深度学习的基本算法有哪些？"


class TestHashingEmbeddings(EmbeddingsIntegrationTests):
    @property
    def embeddings_class(self) -> type[HashingEmbeddings]:
        return HashingEmbeddings


class TestE5Embeddings(EmbeddingsIntegrationTests):
    """The packaged default embedder (multilingual-e5-small, 4-bit)."""

    @property
    def embeddings_class(self) -> type[E5Embeddings]:
        return E5Embeddings

    @property
    def embedding_model_params(self) -> dict:
        return {"threads": 2}
