"""What a user may add to the library, for the edges: the file types the index reads, and a
check that one file can be read before anything is stored. The UI reaches the index layer only
through ``assistant``, so these live here rather than being imported from ``index`` directly."""

from __future__ import annotations

from pathlib import Path

from index.loaders import SUPPORTED_SUFFIXES

__all__ = ["SUPPORTED_SUFFIXES", "check_readable"]


def check_readable(path: Path, *, name: str, max_bytes: int, timeout_s: float) -> None:
    """Read and parse ``path`` as the indexer would, keeping nothing; a file that cannot be
    indexed raises ``DocumentError`` with one sentence naming ``name``."""
    from index.loaders import load_file

    load_file(path, name=name, max_bytes=max_bytes, timeout_s=timeout_s)
