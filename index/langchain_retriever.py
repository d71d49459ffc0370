"""The hybrid search as a LangChain retriever, for chains of your own (``Assistant.as_retriever``)."""

from __future__ import annotations

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from .retrieval import HybridSearcher


class HybridRetriever(BaseRetriever):
    """Documents of ``HybridSearcher.search``, best first; metadata carries the calibrated
    ``score`` (0-1), the ``keyword`` and ``dense`` signals, ``document`` and ``section``.
    ``invoke(query, k=3)`` asks for another number of documents than the retriever's ``k``."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    searcher: HybridSearcher
    k: int = 5

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun, k: int | None = None
    ) -> list[Document]:
        return [p.to_document() for p in self.searcher.search(query, k or self.k)]
