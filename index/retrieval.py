"""Hybrid retrieval: jieba BM25 and dense Chroma candidates, scored on one calibrated 0-1 scale.

Two absolute signals are computed for every candidate, whichever retriever proposed it:

- ``keyword``: the share of the question's IDF mass whose terms occur in the chunk (0-1);
- ``dense``: the cosine similarity of question and chunk, mapped to 0-1 by the embedder's
  ``DenseCalibration`` (below the floor a model says nothing; at the ceiling it is sure).

``relevance = max(keyword, dense)``: the dense signal can raise a passage (paraphrases,
cross-lingual questions) but never pull a strong keyword match down, so a dense model that cannot
read the corpus does not drag lexical results down (and vice versa). Ranking adds BM25 and the
dense score as tie-breakers. One threshold,
``Settings.relevance_threshold``, separates evidence from noise; ``evaluation`` measures it.
"""

from __future__ import annotations

import threading

import numpy as np

from .embeddings import DenseCalibration
from .keyword_index import KeywordSnapshot
from .keyword_tokens import has_cjk, keyword_tokens
from .knowledge_base import IndexStores, KnowledgeBase
from .passage import Passage
from .section_window import widen
from .vector_store import CollectionMissingError

CANDIDATES = 30
# e5's cosines lie close together (most survey chunks 0.8-0.93 for any on-topic question), so
# its dense relevance ties more often than USE's did; BM25 breaks those ties. Chosen on the dev
# sets with e5: 0.1 -> 0.3 moved survey dev hit@3 0.915 -> 0.949 and key recall 0.689 -> 0.732,
# English dev hit@1 0.70 -> 0.77, and cost CMRC trial hit@1 0.938 -> 0.929 (hit@5 0.982 -> 0.980).
RANK_BM25 = 0.3
RANK_DENSE = 0.1
# At most this many FAQ records of one section before other passages get a turn: a FAQ's short
# question/answer records share the common words of most questions ("哪些", "AI大模型") and would
# otherwise fill every slot (measured: survey hit@5 0.966 -> 0.983, English questions hit@3
# 0.70 -> 0.77). Ordinary chunks are not limited: on CMRC the answer is often in a paragraph's
# third chunk, and a limit on every section lowered hit@5 there (0.981 -> 0.974).
FAQ_PER_SECTION = 2


def dense_relevance(
    cosine: float, calibration: DenseCalibration, *, cross_lingual: bool = False
) -> float:
    """Across languages (an English question, a Chinese chunk, or the reverse) a model gives the
    same content lower cosines, so the ceiling is lower there (e.g. USE: English questions' best
    chunks 0.23-0.62 where their Chinese originals score 0.4-0.9)."""
    if cross_lingual:
        floor, ceiling = calibration.cross_lingual_floor, calibration.cross_lingual_ceiling
    else:
        floor, ceiling = calibration.floor, calibration.ceiling
    return float(np.clip((cosine - floor) / (ceiling - floor), 0.0, 1.0))


def _cross_lingual(query_is_cjk: bool, snapshot: KeywordSnapshot, index: int) -> bool:
    """An English question and a Chinese chunk, or a Chinese question and an English one (a chunk
    mixing both, such as code with Chinese comments, is compared as it is)."""
    script = snapshot.script(index)
    return script == ("latin" if query_is_cjk else "cjk")


def fuse(keyword: float, dense: float) -> float:
    return max(keyword, dense)


def _meaningful(terms: dict[str, float]) -> dict[str, float]:
    """Coverage terms without one-letter Latin ones: coverage matches terms as substrings, so the
    "s" of "learning's" or a lone "3" occurs in nearly every chunk and would count as full cover."""
    return {t: w for t, w in terms.items() if len(t) > 1 or not t.isascii()}


class HybridSearcher:
    """Searches one knowledge base; reloads the keyword snapshot when an indexer published a new
    one, and follows a rebuild to its new generation."""

    def __init__(
        self,
        kb: KnowledgeBase,
        *,
        use_dense: bool = True,
        use_keyword: bool = True,
        passage_tokens: int = 0,
    ):
        self.kb = kb
        # A found chunk is widened within its section up to this many tokens (0: as it is).
        self.passage_tokens = passage_tokens
        self.use_dense = use_dense
        self.use_keyword = use_keyword
        self._snapshot: tuple[int, KeywordSnapshot | None] | None = None
        self._lock = threading.Lock()

    def snapshot(self, stores: IndexStores | None = None) -> KeywordSnapshot | None:
        stores = stores or self.kb.stores()
        current = stores.keyword_index.current_fingerprint()
        with self._lock:
            cached = self._snapshot
            if (
                cached is None
                or cached[0] != stores.number
                or cached[1] is None
                or cached[1].fingerprint != current
            ):
                self._snapshot = (stores.number, stores.keyword_index.load())
            return self._snapshot[1]

    def search(self, query: str, k: int) -> list[Passage]:
        """The ``k`` best passages. A rebuild may switch generations and delete the old one while
        this runs: then the search is repeated on the new one."""
        from chromadb.errors import NotFoundError

        passages: list[Passage] = []
        for _ in range(3):
            stores = self.kb.stores()
            try:
                passages = self._search(stores, query, k)
            except (NotFoundError, CollectionMissingError):
                if not self.kb.switched(stores):
                    raise
                continue
            if passages or not self.kb.switched(stores):
                return passages
        return passages

    def _search(self, stores: IndexStores, query: str, k: int) -> list[Passage]:
        snapshot = self.snapshot(stores)
        if snapshot is None or len(snapshot) == 0:
            return []
        tokens = keyword_tokens(snapshot.expand(query))
        candidates: dict[int, float] = {}  # record index -> cosine (nan until known)
        bm25: dict[int, float] = {}
        if self.use_keyword:
            for index, score in snapshot.search(tokens, CANDIDATES):
                candidates[index] = float("nan")
                bm25[index] = score
        query_vector = None
        if self.use_dense:
            query_vector = np.asarray(self.kb.embeddings.embed_query(query), dtype=np.float32)
            found = stores.vector_store.langchain.similarity_search_by_vector_with_relevance_scores(
                query_vector.tolist(), k=min(CANDIDATES, len(snapshot))
            )
            for doc, distance in found:
                index = snapshot.by_id.get(doc.id)
                if index is not None:
                    candidates[index] = 1.0 - float(distance)  # cosine distance -> similarity
        if not candidates:
            return []
        missing = [snapshot.records[i].id for i, c in candidates.items() if np.isnan(c)]
        if missing and query_vector is not None:
            for cid, vector in stores.vector_store.get_embeddings(missing).items():
                v = np.asarray(vector, dtype=np.float32)
                candidates[snapshot.by_id[cid]] = float(
                    v @ query_vector / (np.linalg.norm(v) + 1e-9)
                )
        top_bm25 = max(bm25.values(), default=0.0) or 1.0
        terms = _meaningful(snapshot.query_terms(query))
        query_is_cjk = has_cjk(query)
        calibration = self.kb.embeddings.calibration
        ranked = []
        for index, cosine in candidates.items():
            record = snapshot.records[index]
            keyword = snapshot.coverage(terms, index) if self.use_keyword else 0.0
            dense = (
                dense_relevance(
                    cosine,
                    calibration,
                    cross_lingual=_cross_lingual(query_is_cjk, snapshot, index),
                )
                if self.use_dense and not np.isnan(cosine)
                else 0.0
            )
            score = fuse(keyword, dense) if self.use_keyword else dense
            meta = record.metadata
            body = record.text[int(meta.get("body_start", 0)) :]
            passage = Passage(
                record.id,
                meta.get("document", ""),
                meta.get("section", ""),
                body,
                score,
                keyword,
                dense,
                meta,
            )
            # Order: calibrated relevance first; BM25 (term frequency, length) and the dense signal
            # break the ties that coverage leaves when every question word occurs in many chunks.
            rank = score + RANK_BM25 * bm25.get(index, 0.0) / top_bm25 + RANK_DENSE * dense
            ranked.append((rank, passage))
        ranked.sort(
            key=lambda item: (-item[0], item[1].document, item[1].metadata.get("position", 0))
        )
        ordered = _diverse([passage for _, passage in ranked], len(ranked))
        return widen(ordered, snapshot, k, self.passage_tokens)


def _diverse(ranked: list[Passage], k: int) -> list[Passage]:
    """The first ``k`` of ``ranked``, with the FAQ records of one section past the first
    FAQ_PER_SECTION moved after the other passages; relevance order is otherwise kept."""
    taken: dict[tuple[str, str], int] = {}
    first, later = [], []
    for passage in ranked:
        if passage.is_faq:
            key = (passage.document, passage.section)
            taken[key] = taken.get(key, 0) + 1
            if taken[key] > FAQ_PER_SECTION:
                later.append(passage)
                continue
        first.append(passage)
    return (first + later)[:k]
