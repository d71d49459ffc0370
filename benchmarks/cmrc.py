"""CMRC 2018 trial set helpers shared by the benchmarks: paragraphs as documents, questions."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from index.documents import LoadedDocument

CMRC_TRIAL = (
    Path(__file__).resolve().parents[2] / "shared" / "data" / "cmrc2018" / "cmrc2018_trial.json"
)


@dataclass(frozen=True)
class Question:
    id: str
    question: str
    answers: tuple[str, ...]
    paragraph: str  # document name of the gold paragraph


def cmrc_path() -> Path:
    for candidate in (CMRC_TRIAL, Path.cwd().parent / "shared/data/cmrc2018/cmrc2018_trial.json"):
        if candidate.exists():
            return candidate
    raise FileNotFoundError(
        "CMRC 2018 trial set not found next to the checkout (../shared/data/cmrc2018)"
    )


def load_cmrc(path: Path | None = None) -> tuple[list[LoadedDocument], list[Question]]:
    data = json.loads((path or cmrc_path()).read_text(encoding="utf-8"))
    docs, questions = [], []
    for article in data["data"]:
        for paragraph in article["paragraphs"]:
            name = f"{paragraph['id']}.txt"
            docs.append(
                LoadedDocument(name=name, source=name, format="text", text=paragraph["context"])
            )
            for qa in paragraph["qas"]:
                answers = tuple(dict.fromkeys(a["text"] for a in qa["answers"]))
                questions.append(Question(qa["id"], qa["question"], answers, name))
    return docs, questions


def write_paragraphs(docs: list[LoadedDocument], folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for doc in docs:
        target = folder / doc.name
        if not target.exists() or target.read_text(encoding="utf-8") != doc.text:
            target.write_text(doc.text, encoding="utf-8")
    return folder
