"""Reading evaluation sets: FAQ pairs (JSON Lines, contracts.md) and SQuAD-format JSON.

Every problem is one ``UsageError`` sentence naming the file (and, for JSONL, the line), raised
before any model is loaded.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from ..errors import UsageError
from .metrics import normalize

EXPECT_VALUES = ("answer", "abstain")
_FIELDS = ("id", "question", "answer", "history", "expect", "keys", "source")


@dataclass(frozen=True)
class EvalItem:
    """One question to ask and what a right response looks like.

    FAQ pairs fill ``keys`` and ``source``; SQuAD items fill ``gold_answers`` (every accepted
    answer span) and ``gold_document`` (the document name of the paragraph that holds them).
    """

    id: str
    question: str
    answer: str
    history: tuple[str, ...] = ()
    expect: str = "answer"
    keys: tuple[str, ...] = ()
    source: str | None = None
    gold_answers: tuple[str, ...] = ()
    gold_document: str | None = None

    @property
    def answerable(self) -> bool:
        return self.expect == "answer"

    @property
    def references(self) -> tuple[str, ...]:
        """Reference answers the response is scored against."""
        return self.gold_answers or (self.answer,)


@dataclass(frozen=True)
class SquadParagraph:
    document: str  # the document name it is indexed under (a file name, "<id>.txt")
    context: str


@dataclass(frozen=True)
class SquadSet:
    paragraphs: list[SquadParagraph]
    items: list[EvalItem]
    skipped: list[str]  # ids of questions without text (the CMRC 2018 trial set has two)


# --- FAQ pairs (JSONL) ---------------------------------------------------------------------------


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise UsageError(f"The evaluation file {path} does not exist; check the path.") from None
    except IsADirectoryError:
        raise UsageError(f"{path} is a folder; give the evaluation file itself.") from None
    except UnicodeDecodeError:
        raise UsageError(
            f"The evaluation file {path} is not UTF-8 text; save it as UTF-8."
        ) from None
    except OSError as exc:
        raise UsageError(f"The evaluation file {path} cannot be read ({exc.strerror}).") from None


def _string_list(value, field: str, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise UsageError(f"{where}: '{field}' must be a list of non-empty strings; fix that line.")
    return tuple(v.strip() for v in value)


def _faq_item(record, where: str) -> EvalItem:
    if not isinstance(record, dict):
        raise UsageError(f"{where}: expected a JSON object with id, question and answer.")
    unknown = [k for k in record if k not in _FIELDS]
    if unknown:
        raise UsageError(
            f"{where}: unknown field '{unknown[0]}' (known fields: {', '.join(_FIELDS)}); "
            "fix that line."
        )
    for field in ("id", "question", "answer"):
        if field not in record:
            raise UsageError(
                f"{where}: the field '{field}' is missing; every line needs id, question and answer."
            )
    item_id = record["id"]
    if isinstance(item_id, bool) or not isinstance(item_id, str | int) or not str(item_id).strip():
        raise UsageError(f"{where}: 'id' must be a non-empty string or number; fix that line.")
    question = record["question"]
    if not isinstance(question, str) or not question.strip():
        raise UsageError(f"{where}: 'question' must be a non-empty string; fix that line.")
    expect = record.get("expect", "answer")
    if expect not in EXPECT_VALUES:
        raise UsageError(
            f'{where}: \'expect\' must be "answer" or "abstain", not {json.dumps(expect, ensure_ascii=False)}.'
        )
    answer = record["answer"]
    if not isinstance(answer, str) or (expect == "answer" and not answer.strip()):
        raise UsageError(f"{where}: 'answer' must be a non-empty string; fix that line.")
    history = _string_list(record.get("history", []), "history", where)
    keys = _string_list(record.get("keys", []), "keys", where)
    for key in keys:
        if not normalize(key):
            raise UsageError(f"{where}: the key {key!r} has no letters or digits; fix that line.")
    source = record.get("source")
    if source is not None and (not isinstance(source, str) or not source.strip()):
        raise UsageError(f"{where}: 'source' must be a non-empty heading text; fix that line.")
    return EvalItem(
        id=str(item_id).strip(),
        question=question.strip(),
        answer=answer.strip(),
        history=history,
        expect=expect,
        keys=keys,
        source=source.strip() if source else None,
    )


def read_faq_pairs(path: Path) -> list[EvalItem]:
    """The items of a JSONL file of FAQ pairs; blank lines are skipped."""
    items: list[EvalItem] = []
    seen: dict[str, int] = {}
    for number, line in enumerate(_read_text(path).splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{path} line {number}"
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise UsageError(
                f"{where} is not valid JSON ({exc.msg} at column {exc.colno}); "
                "each line must be one JSON object."
            ) from None
        item = _faq_item(record, where)
        if item.id in seen:
            raise UsageError(
                f"{where}: the id '{item.id}' is already used on line {seen[item.id]}; ids must be unique."
            )
        seen[item.id] = number
        items.append(item)
    if not items:
        raise UsageError(
            f"The evaluation file {path} holds no items; add one JSON object per line."
        )
    return items


# --- SQuAD format --------------------------------------------------------------------------------

_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def _document_name(paragraph: dict, article: int, index: int, taken: set[str]) -> str:
    raw = paragraph.get("id")
    base = _UNSAFE_NAME.sub("-", str(raw)).strip("-.") if raw else ""
    base = base or f"a{article:04d}-p{index:03d}"
    name, n = base, 2
    while f"{name}.txt" in taken:
        name, n = f"{base}-{n}", n + 1
    taken.add(f"{name}.txt")
    return f"{name}.txt"


def read_squad(path: Path) -> SquadSet:
    """Paragraphs and questions of a SQuAD-format file (``data[].paragraphs[].context`` and
    ``.qas[].question / .answers[].text``). A question without answers (SQuAD 2.0 "impossible")
    becomes an item that expects the assistant to abstain; one without text is skipped (and
    listed in ``skipped``)."""
    try:
        root = json.loads(_read_text(path))
    except json.JSONDecodeError as exc:
        raise UsageError(
            f"The SQuAD file {path} is not valid JSON ({exc.msg} at line {exc.lineno})."
        ) from None
    data = root.get("data") if isinstance(root, dict) else None
    if not isinstance(data, list):
        raise UsageError(f'{path} is not a SQuAD-format file: it has no "data" list of articles.')
    paragraphs: list[SquadParagraph] = []
    items: list[EvalItem] = []
    taken: set[str] = set()
    ids: set[str] = set()
    skipped: list[str] = []
    for a, article in enumerate(data):
        for p, paragraph in enumerate(
            article.get("paragraphs", []) if isinstance(article, dict) else []
        ):
            context = paragraph.get("context") if isinstance(paragraph, dict) else None
            if not isinstance(context, str) or not context.strip():
                raise UsageError(f'{path}: paragraph {p} of article {a} has no "context" text.')
            document = _document_name(paragraph, a, p, taken)
            paragraphs.append(SquadParagraph(document, context))
            for q, qa in enumerate(paragraph.get("qas", [])):
                question = qa.get("question") if isinstance(qa, dict) else None
                if not isinstance(question, str) or not question.strip():
                    skipped.append(
                        str(qa.get("id") if isinstance(qa, dict) else f"{document}-q{q}")
                    )
                    continue
                answers = tuple(
                    dict.fromkeys(
                        gold["text"].strip()
                        for gold in qa.get("answers", [])
                        if isinstance(gold, dict)
                        and isinstance(gold.get("text"), str)
                        and gold["text"].strip()
                    )
                )
                item_id = str(qa.get("id") or f"{document}-q{q}")
                if item_id in ids:
                    item_id = f"{item_id}-{len(items)}"
                ids.add(item_id)
                items.append(
                    EvalItem(
                        id=item_id,
                        question=question.strip(),
                        answer=answers[0] if answers else "",
                        expect="answer" if answers else "abstain",
                        gold_answers=answers,
                        gold_document=document,
                    )
                )
    if not items:
        raise UsageError(f"The SQuAD file {path} holds no questions (data[].paragraphs[].qas[]).")
    return SquadSet(paragraphs, items, skipped)
