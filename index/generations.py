"""Index generations: ``index --rebuild`` builds a whole new set of stores beside the live one,
and readers switch to it only when it is complete.

A generation is one manifest, one Chroma collection and one keyword-index folder. Which one is
live is recorded in a small pointer file (``manifests/<collection>.live``), replaced atomically
when a rebuild has finished: a reader sees either the old index or the new one, never a half-built
one. Generation 0 uses the names indexes had before generations existed, so an existing data
directory needs no migration. A generation that is not live (the old one after a switch, or a
rebuild killed half-way) is deleted by the writer; readers that still held it notice and re-read
the pointer.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from .manifest import write_atomic

# The suffix a generation adds to a collection's file and Chroma names; collection names that end
# like it are refused (settings), so no user collection can be mistaken for a generation.
GENERATION_SUFFIX = re.compile(r"\.g(\d+)$")


@dataclass(frozen=True)
class Generation:
    """Where one generation of a collection lives."""

    number: int
    manifest_path: Path
    keyword_dir: Path
    chroma_name: str


def generation(data_dir: Path, collection: str, chroma_base: str, number: int) -> Generation:
    suffix = f".g{number}" if number else ""
    return Generation(
        number=number,
        manifest_path=data_dir / "manifests" / f"{collection}{suffix}.json",
        keyword_dir=data_dir / "keyword" / f"{collection}{suffix}",
        chroma_name=f"{chroma_base}{suffix}",
    )


class GenerationPointer:
    """The file that names the live generation of one collection."""

    def __init__(self, data_dir: Path, collection: str):
        self.path = data_dir / "manifests" / f"{collection}.live"
        self.data_dir = data_dir
        self.collection = collection

    def live(self) -> int:
        """The live generation; 0 when there is no pointer yet (or an unreadable one: generation
        0 is then what the manifest check reports on)."""
        try:
            number = json.loads(self.path.read_text(encoding="utf-8"))["generation"]
        except (OSError, ValueError, KeyError, TypeError):
            return 0
        return number if isinstance(number, int) and number >= 0 else 0

    def publish(self, number: int) -> None:
        write_atomic(self.path, json.dumps({"generation": number}).encode())

    def on_disk(self, chroma_names: set[str], chroma_base: str) -> set[int]:
        """Every generation that has a manifest, a keyword folder or a Chroma collection."""
        found: set[int] = set()
        for folder, pattern in (
            (self.data_dir / "manifests", f"{self.collection}.g*.json"),
            (self.data_dir / "keyword", f"{self.collection}.g*"),
        ):
            if folder.is_dir():
                for path in folder.glob(pattern):
                    name = path.name.removesuffix(".json")
                    match = GENERATION_SUFFIX.search(name)
                    if match and name[: match.start()] == self.collection:
                        found.add(int(match.group(1)))
        for name in chroma_names:
            match = GENERATION_SUFFIX.search(name)
            if match:
                number = int(match.group(1))
                if (
                    generation(self.data_dir, self.collection, chroma_base, number).chroma_name
                    == name
                ):
                    found.add(number)
        return found
