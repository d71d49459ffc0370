"""One writer at a time per data directory: a second one fails fast with a clear message."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .errors import IndexInUseError


@contextmanager
def writer_lock(data_dir: Path) -> Iterator[None]:
    """Hold the data directory's writer lock (an OS file lock: released if the process dies)."""
    from filelock import FileLock, Timeout

    lock_path = data_dir / "index.lock"
    owner_path = data_dir / "index.lock.owner"
    lock = FileLock(str(lock_path), timeout=0)
    try:
        lock.acquire()
    except Timeout:
        try:  # the holder may be writing it right now, or it may be unreadable
            owner = owner_path.read_text().strip() or "another process"
        except OSError:
            owner = "another process"
        raise IndexInUseError(
            f"The index in {data_dir} is in use by {owner}; wait for it to finish or stop it, then retry."
        ) from None
    try:
        owner_path.write_text(f"process {os.getpid()}")
        yield
    finally:
        lock.release()
