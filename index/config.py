"""What the index layer is told, as plain values.

``index`` reads no settings object of its own: the composition root (``assistant.components``)
fills an ``IndexConfig`` from the one typed ``Settings`` and hands it down, so this package stays
a leaf that any caller (a test, a benchmark, a future server) can drive with values alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class IndexConfig:
    data_dir: Path  # every file the index writes lives under it
    chunk_max_tokens: int
    chunk_min_tokens: int
    chunk_overlap_sentences: int
    max_file_bytes: int  # a larger file is refused before it is read
    parse_timeout_s: float  # one document's parse is stopped after this long
    chroma_host: str = ""  # empty: Chroma embedded under data_dir/chroma
    chroma_port: int = 8000

    @property
    def chroma_path(self) -> Path:
        """The embedded store's folder (unused with a Chroma server)."""
        return self.data_dir / "chroma"
