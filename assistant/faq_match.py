"""Answering straight from a stored FAQ record when the question is (nearly) the stored one.

Similarity is the larger of a character-bigram F1 of the two questions (punctuation and spaces
removed, so it works for Chinese) and their dense cosine mapped to 0-1; both are absolute, so one
threshold (``Settings.faq_threshold``) means the same for every question.
"""

from __future__ import annotations

import re
from collections import Counter

import numpy as np

from index import faq_vectors
from index.passage import Passage

_STRIP = re.compile(r"[\W_]+", re.UNICODE)


def _bigrams(text: str) -> Counter:
    chars = _STRIP.sub("", text.lower())
    if len(chars) < 2:
        return Counter(chars)
    return Counter(chars[i : i + 2] for i in range(len(chars) - 1))


def bigram_f1(a: str, b: str) -> float:
    ga, gb = _bigrams(a), _bigrams(b)
    common = sum((ga & gb).values())
    if not common:
        return 0.0
    precision, recall = common / sum(gb.values()), common / sum(ga.values())
    return 2 * precision * recall / (precision + recall)


def best_faq_match(
    question: str, passages: list[Passage], embeddings
) -> tuple[Passage, float] | None:
    """The stored FAQ passage most similar to the question, with its similarity (0-1)."""
    faqs = [p for p in passages if p.is_faq and p.metadata.get("question")]
    if not faqs:
        return None
    stored = [p.metadata["question"] for p in faqs]
    lexical = [bigram_f1(question, q) for q in stored]
    # The stored questions' vectors were computed when they were indexed (index/faq_vectors.py);
    # only the asked question is embedded here, and a record indexed before vectors were
    # stored has its question embedded with it.
    asked = np.asarray(embeddings.embed_documents([question])[0], dtype=np.float32)
    kept = [faq_vectors.decode(p.metadata.get(faq_vectors.KEY)) for p in faqs]
    kept = [v if v is not None and v.shape == asked.shape else None for v in kept]
    missing = [q for q, v in zip(stored, kept, strict=True) if v is None]
    fresh = iter(embeddings.embed_documents(missing) if missing else [])
    rows = [v if v is not None else np.asarray(next(fresh), dtype=np.float32) for v in kept]
    vectors = np.vstack([asked, *rows])
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True) + 1e-9
    cosines = vectors[1:] @ vectors[0]
    # The embedder's own scale for two questions (USE: paraphrases 0.8-0.95, unrelated < 0.5).
    low, high = embeddings.calibration.question_floor, embeddings.calibration.question_ceiling
    dense = np.clip((cosines - low) / (high - low), 0, 1)
    scores = [max(lex, float(d)) for lex, d in zip(lexical, dense, strict=True)]
    best = int(np.argmax(scores))
    return faqs[best], scores[best]
