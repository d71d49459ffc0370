"""The knowledge collection a SQuAD-format set is evaluated over.

Each paragraph becomes one text document (``<paragraph id>.txt``) in a folder under the data
directory, ``eval/<collection>/paragraphs``, and that folder is indexed into its own collection,
``squad-<file stem>``: never the survey's. The folder is stable, so the incremental indexer
re-indexes only paragraphs whose text changed, drops removed ones, and does nothing at all when
the file is unchanged.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from ..components import Components
from ..errors import DocumentError
from .dataset import SquadParagraph
from .runner import PROGRESS_MIN_ITEMS

_UNSAFE = re.compile(r"[^a-z0-9_-]+")


def squad_collection_name(path: Path) -> str:
    stem = _UNSAFE.sub("-", path.stem.lower()).strip("-_") or "set"
    return f"squad-{stem}"[:60]


def _write_paragraphs(folder: Path, paragraphs: list[SquadParagraph]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    wanted = {p.document: p.context for p in paragraphs}
    for stale in folder.glob("*.txt"):
        if stale.name not in wanted:
            stale.unlink()
    for name, context in wanted.items():
        target = folder / name
        data = context.encode("utf-8")
        if not target.exists() or target.read_bytes() != data:
            target.write_bytes(data)


def prepare_squad_components(
    components: Components, path: Path, paragraphs: list[SquadParagraph]
) -> Components:
    """Components whose collection holds the set's paragraphs, indexed and up to date."""
    from tqdm import tqdm

    collection = squad_collection_name(path)
    settings = components.settings.model_copy(update={"collection": collection})
    squad_components = Components(settings)
    folder = settings.data_dir / "eval" / collection / "paragraphs"
    _write_paragraphs(folder, paragraphs)
    bars: list = []  # created on the first document, so an unchanged set prints nothing

    def progress(done: int, total: int, name: str) -> None:
        if not bars:
            bars.append(
                tqdm(
                    total=total,
                    desc=f"index {collection}",
                    unit="doc",
                    file=sys.stderr,
                    disable=total < PROGRESS_MIN_ITEMS,
                )
            )
        bars[0].update(done - bars[0].n)

    try:
        report = squad_components.indexer(collection).index_paths([folder], progress=progress)
    finally:
        for bar in bars:
            bar.close()
    if report.errors:
        _, message = report.errors[0]
        raise DocumentError(f"Indexing the paragraphs of {path} failed: {message}")
    return squad_components
