"""The system prompt's llama.cpp state, computed once and kept under the data directory.

Processing the ~170-token system prompt takes ~1.8 s on two cores, and every new process (each
`ask` command) would pay it again before its first token. The saved state (the KV cache of those
tokens, ~2 MB) restores in well under 0.1 s. The file name is a hash of everything that shapes
the state: the model file (path, size, modification time), llama-cpp-python's version (the state
format is the library's), the context size and the prompt text. A file that is missing, damaged or
refused by llama.cpp is ignored and written again; failing to write it (read-only or full disk)
only costs the next process the 1.8 s.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import zipfile
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)


def state_file(cache_dir: Path, model_path: Path, n_ctx: int, prompt: str) -> Path:
    import llama_cpp

    stat = model_path.stat()
    key = "\0".join(
        [
            str(model_path.resolve()),
            str(stat.st_size),
            str(stat.st_mtime_ns),
            llama_cpp.__version__,
            str(n_ctx),
            prompt,
        ]
    )
    return cache_dir / f"{hashlib.sha256(key.encode('utf-8')).hexdigest()[:32]}.npz"


def restore_state(llama, path: Path) -> bool:
    """Load the saved state into ``llama``; False (and ``llama`` left empty) when it cannot be."""
    from llama_cpp import LlamaState

    try:
        with np.load(path, allow_pickle=False) as saved:
            tokens = saved["input_ids"].astype(np.intc)
            blob = saved["llama_state"].tobytes()
            seed = int(saved["seed"])
    except FileNotFoundError:
        return False
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:
        log.warning("Ignoring the damaged prompt state %s (%s).", path.name, exc)
        return False
    n = len(tokens)
    if not 0 < n < llama.n_ctx() or not blob:
        return False
    input_ids = np.zeros(llama.n_ctx(), dtype=np.intc)
    input_ids[:n] = tokens
    # Logits are kept only with logits_all (sampling happens in llama.cpp's sampler), and a
    # restored state is decoded again before sampling; one zero row broadcasts over the rows.
    scores = np.zeros(llama.n_vocab(), dtype=np.single)
    try:
        llama.load_state(LlamaState(input_ids, scores, n, blob, len(blob), seed))
    except (RuntimeError, ValueError) as exc:
        log.warning("llama.cpp refused the prompt state %s (%s).", path.name, exc)
        llama.reset()
        return False
    return True


def save_state(llama, path: Path) -> None:
    state = llama.save_state()
    n = state.n_tokens
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(temporary, "wb") as handle:
            np.savez(
                handle,
                input_ids=np.asarray(state.input_ids[:n], dtype=np.intc),
                llama_state=np.frombuffer(state.llama_state, dtype=np.uint8),
                seed=np.array(state.seed, dtype=np.int64),
            )
        os.replace(temporary, path)  # readers see the old file or the whole new one
    except OSError as exc:
        log.warning("Could not save the prompt state to %s (%s).", path.parent, exc)
        with contextlib.suppress(OSError):
            temporary.unlink(missing_ok=True)
