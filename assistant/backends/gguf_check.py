"""Check a GGUF file before llama.cpp parses it: present, really GGUF, and complete.

llama.cpp reports a bad file late (when the first question loads it) and malformed files have had
overflow bugs (reliability.md), so the header is walked here in Python: the metadata, the tensor
table, and the end of the last tensor's data, which must lie inside the file. A file cut short
anywhere (header, vocabulary, weights) is refused. The result is cached per (path, size, mtime),
so the check is cheap enough to run when backends are listed. A file already proven whole another
way (the packaged model, hashed against its published sha256) is marked so and not walked again:
the walk reads every vocabulary string, ~0.3 s of a cold command.
"""

from __future__ import annotations

import mmap
import struct
from functools import lru_cache
from pathlib import Path

from assistant.errors import ModelUnavailableError

GGUF_MAGIC = b"GGUF"
PATH_HINT = "set ASSISTANT_LLM_MODEL_PATH to a complete .gguf file (or unset it to use the packaged Qwen model)"

# Fixed-size metadata value types: type id -> bytes.
_SCALARS = {0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8}
_STRING, _ARRAY = 8, 9
# ggml tensor types: type id -> (elements per block, bytes per block) (ggml.c type_traits).
_TENSOR_TYPES = {
    0: (1, 4), 1: (1, 2), 2: (32, 18), 3: (32, 20), 6: (32, 22), 7: (32, 24), 8: (32, 34),
    9: (32, 36), 10: (256, 84), 11: (256, 110), 12: (256, 144), 13: (256, 176), 14: (256, 210),
    15: (256, 292), 16: (256, 66), 17: (256, 74), 18: (256, 98), 19: (256, 50), 20: (32, 18),
    21: (256, 110), 22: (256, 82), 23: (256, 136), 24: (1, 1), 25: (1, 2), 26: (1, 4),
    27: (1, 8), 28: (1, 8), 29: (256, 56), 30: (1, 2), 34: (256, 54), 35: (256, 66),
    39: (32, 17),
}  # fmt: skip


class _Truncated(Exception):
    pass


class _Reader:
    def __init__(self, data, version: int):
        self.data, self.pos = data, 8
        self.count_format = "<I" if version == 1 else "<Q"  # GGUF v1 used 32-bit counts

    def take(self, size: int) -> int:
        start = self.pos
        self.pos += size
        if size < 0 or self.pos > len(self.data):
            raise _Truncated
        return start

    def unpack(self, fmt: str):
        return struct.unpack_from(fmt, self.data, self.take(struct.calcsize(fmt)))[0]

    def count(self) -> int:
        return self.unpack(self.count_format)

    def string(self) -> bytes:
        size = self.count()
        start = self.take(size)
        return bytes(self.data[start : start + size])

    def skip_value(self, kind: int) -> object:
        if kind in _SCALARS:
            start = self.take(_SCALARS[kind])
            if kind == 4:  # uint32: general.alignment is one
                return struct.unpack_from("<I", self.data, start)[0]
            return None
        if kind == _STRING:
            self.take(self.count())
            return None
        if kind == _ARRAY:
            item, length = self.unpack("<I"), self.count()
            if item in _SCALARS:
                self.take(_SCALARS[item] * length)
            else:
                for _ in range(length):
                    self.skip_value(item)
            return None
        raise ValueError(f"unknown metadata type {kind}")


def _data_end(data) -> tuple[int, int]:
    """(bytes the file must hold, tensors) from the header; raises _Truncated or ValueError."""
    if len(data) < 24:
        raise _Truncated
    version = struct.unpack_from("<I", data, 4)[0]
    if version not in (1, 2, 3):
        raise ValueError(f"unsupported GGUF version {version}")
    reader = _Reader(data, version)
    tensors, entries = reader.count(), reader.count()
    if tensors > 1_000_000 or entries > 1_000_000:
        raise ValueError("implausible header counts")
    alignment = 32
    for _ in range(entries):
        key = reader.string()
        value = reader.skip_value(reader.unpack("<I"))
        if key == b"general.alignment" and isinstance(value, int) and value > 0:
            alignment = value
    end = 0
    for _ in range(tensors):
        reader.string()
        dims = [reader.unpack("<Q") for _ in range(reader.unpack("<I"))]
        kind, offset = reader.unpack("<I"), reader.unpack("<Q")
        elements = 1
        for dim in dims:
            elements *= dim
        block, size = _TENSOR_TYPES.get(kind, (1, 0))  # unknown type: its start must be inside
        end = max(end, offset + max(-(-elements // block) * size, 1))
    data_start = -(-reader.pos // alignment) * alignment
    return data_start + end, tensors


# (resolved path, size, mtime_ns) of files proven complete by their sha256.
_HASH_VERIFIED: set[tuple[Path, int, int]] = set()


def mark_hash_verified(path: Path) -> None:
    """``path``, as it is now, matched a published sha256: ``check_gguf`` trusts it until its size
    or modification time changes."""
    stat = path.stat()
    _HASH_VERIFIED.add((path.resolve(), stat.st_size, stat.st_mtime_ns))


@lru_cache(maxsize=16)
def _check(path: Path, size: int, mtime_ns: int) -> None:
    name = path.name
    with path.open("rb") as handle:
        if size < 4 or handle.read(4) != GGUF_MAGIC:
            raise ModelUnavailableError(
                f"The local model file {name} is not a GGUF model; {PATH_HINT}."
            )
        with mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data:
            try:
                needed, tensors = _data_end(data)
            except _Truncated:
                needed, tensors = size + 1, 1
            except (ValueError, struct.error, OverflowError):
                raise ModelUnavailableError(
                    f"The local model file {name} has a corrupt GGUF header; {PATH_HINT}."
                ) from None
    if tensors == 0 or needed > size:
        raise ModelUnavailableError(
            f"The local model file {name} is truncated (incomplete download or copy); {PATH_HINT}."
        )


def check_gguf(path: Path) -> None:
    """Raise ModelUnavailableError (one sentence, the file's name and the fix) unless ``path`` is a
    complete GGUF file."""
    path = Path(path)
    try:
        stat = path.stat()
    except OSError:
        stat = None
    if stat is None or not path.is_file():
        raise ModelUnavailableError(
            f"The local model file {path.name or path} does not exist; {PATH_HINT}."
        )
    key = (path.resolve(), stat.st_size, stat.st_mtime_ns)
    if key in _HASH_VERIFIED:
        return
    try:
        _check(*key)
    except OSError as exc:
        raise ModelUnavailableError(
            f"The local model file {path.name} cannot be read ({exc.strerror or type(exc).__name__}); {PATH_HINT}."
        ) from None
