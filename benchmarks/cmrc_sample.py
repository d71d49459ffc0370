"""A fixed sample of the CMRC 2018 trial set (the first N paragraphs with all their questions),
small enough for the regression gate in `make test`."""

from __future__ import annotations

import json
from pathlib import Path

from .cmrc import cmrc_path

SAMPLE_PARAGRAPHS = 24


def write_cmrc_sample(
    target: Path, paragraphs: int = SAMPLE_PARAGRAPHS, *, source: Path | None = None
) -> Path:
    """The first ``paragraphs`` paragraphs of the trial set at ``source`` (by default the one
    beside the checkout), with all their questions, written to ``target``."""
    data = json.loads((source or cmrc_path()).read_text(encoding="utf-8"))
    kept, count = [], 0
    for article in data["data"]:
        selected = []
        for paragraph in article["paragraphs"]:
            if count < paragraphs:
                selected.append(paragraph)
                count += 1
        if selected:
            kept.append({**article, "paragraphs": selected})
        if count >= paragraphs:
            break
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(
        json.dumps({"version": data.get("version", "v1.0"), "data": kept}, ensure_ascii=False),
        encoding="utf-8",
    )
    return target
