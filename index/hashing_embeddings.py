"""A deterministic embedder with no model: hashed character n-grams and words.

For tests that need real vectors in a real Chroma without loading a network (the unit and fast
integration tiers), and for trying the pipeline where no model can be installed. Similar texts
get similar vectors (they share n-grams), unrelated ones nearly orthogonal ones, and the same text
always the same vector, in every process: features are hashed with BLAKE2b, not with Python's
salted ``hash``. It knows nothing of meaning ("汽车" and "车辆" share nothing), so its answers are
those of a keyword search.
"""

from __future__ import annotations

import hashlib
import math
import re
import unicodedata

from .embeddings import DenseCalibration, FingerprintedEmbeddings

DIMENSIONS = 256
# Han characters (Simplified and Traditional), kana and Hangul: read as characters and pairs of
# characters, since there are no spaces between words.
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]+")
_WORD = re.compile(r"[^\W_]+", re.UNICODE)

# Cosines of hashed n-grams: unrelated texts 0-0.1, a shared topic 0.2-0.4, a near copy > 0.7.
HASHING_CALIBRATION = DenseCalibration(0.1, 0.6, 0.1, 0.6, 0.3, 0.9)


def features(text: str) -> list[str]:
    """What a text is made of: each CJK character and pair of adjacent ones, and each other word
    (case and full-width forms folded)."""
    folded = unicodedata.normalize("NFKC", text).lower()
    found: list[str] = []
    for run in _CJK.findall(folded):
        found.extend(run)
        found.extend(run[i : i + 2] for i in range(len(run) - 1))
    found.extend(_WORD.findall(_CJK.sub(" ", folded)))
    return found


def _slot(feature: str) -> tuple[int, float]:
    digest = hashlib.blake2b(feature.encode("utf-8"), digest_size=8).digest()
    value = int.from_bytes(digest, "little")
    return value % DIMENSIONS, 1.0 if (value >> 32) & 1 else -1.0


def hashed_vector(text: str) -> list[float]:
    """The unit vector of ``text``; a text with no features gets a fixed unit vector (Chroma's
    cosine distance is undefined for a zero vector)."""
    vector = [0.0] * DIMENSIONS
    for feature in features(text):
        index, sign = _slot(feature)
        vector[index] += sign
    norm = math.sqrt(sum(v * v for v in vector))
    if norm == 0.0:
        vector[0] = 1.0
        return vector
    return [v / norm for v in vector]


class HashingEmbeddings(FingerprintedEmbeddings):
    fingerprint = f"hashing-ngrams-{DIMENSIONS}-v1"
    kind = "hashing"
    calibration = HASHING_CALIBRATION

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [hashed_vector(t) for t in texts]

    def embed_query(self, text: str) -> list[float]:
        return hashed_vector(text)
