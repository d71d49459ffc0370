"""Answering straight from a stored FAQ record when the question is (nearly) the stored one.

Similarity is the larger of a character-bigram F1 of the two questions (punctuation and spaces
removed, so it works for Chinese) and their dense cosine mapped to 0-1; both are absolute, so one
threshold (``Settings.faq_threshold``) means the same for every question.
"""

from __future__ import annotations

import re
from collections import Counter

import numpy as np

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
    vectors = np.asarray(embeddings.embed_documents([question, *stored]), dtype=np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True) + 1e-9
    cosines = vectors[1:] @ vectors[0]
    # The embedder's own scale for two questions (USE: paraphrases 0.8-0.95, unrelated < 0.5).
    low, high = embeddings.calibration.question_floor, embeddings.calibration.question_ceiling
    dense = np.clip((cosines - low) / (high - low), 0, 1)
    scores = [max(lex, float(d)) for lex, d in zip(lexical, dense, strict=True)]
    best = int(np.argmax(scores))
    return faqs[best], scores[best]
