"""A FAQ record's question vector, stored with its chunk at index time.

The FAQ match compares the user's question with each retrieved record's stored question
(``assistant/faq_match.py``). Embedding those stored questions again on every query cost one
embedder pass per question asked; the vector is computed once when the record is indexed and
kept in the chunk's metadata, so it is written, replaced, deleted and rebuilt with the chunk
(one upsert: no second store to keep consistent). Chroma's metadata holds only scalars, so the
vector is a base64 string of little-endian float32 values, exact to the bit.
"""

from __future__ import annotations

import base64

import numpy as np

KEY = "question_vector"


def encode(vector) -> str:
    return base64.b64encode(np.asarray(vector, dtype="<f4").tobytes()).decode("ascii")


def decode(text: object) -> np.ndarray | None:
    """The stored vector, or None when there is none or it is not one (an index written before
    vectors were stored, or a damaged value): the caller embeds the question then."""
    if not isinstance(text, str) or not text:
        return None
    try:
        raw = base64.b64decode(text, validate=True)
    except ValueError:
        return None
    if not raw or len(raw) % 4:
        return None
    return np.frombuffer(raw, dtype="<f4").astype(np.float32)
