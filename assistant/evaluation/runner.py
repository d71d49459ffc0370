"""Asking every evaluation question through ``Assistant`` and scoring the responses.

Per item the runner records what was retrieved (the ranked top ``TOP_K`` passages of the
standalone question, before the relevance threshold, so retrieval is measured even when the
assistant abstained), the answer and its scores. The summary follows contracts.md:

- ``hit_at_k`` / ``mrr``: items with a ``source`` (SQuAD: answerable items); a hit is a passage whose
  ``section`` contains the source heading (SQuAD: a passage of the gold paragraph that holds a
  gold answer);
- ``key_recall``: items with ``keys``; ``char_f1`` / ``rouge_l`` (and SQuAD ``em`` / ``f1`` /
  ``contains``): answerable items; ``abstain_accuracy``: every item; ``abstained_answerable`` /
  ``abstained_unanswerable``: the share abstained of the answerable items / of the others;
- latency: wall-clock time of ``ask``; models are loaded by a warm-up query first, so the figures
  are steady-state ones. Percentiles are nearest-rank (``metrics.percentile``).

Answers are scored without their ``[n]`` citation markers.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from ..errors import BackendError, InvalidQuestionError
from . import metrics
from .dataset import EvalItem

TOP_K = 5
PROGRESS_MIN_ITEMS = 20  # shorter runs finish before a progress bar would say anything
FAILURES_BEFORE_STOP = 3  # the first items all failing means the backend is down, not flaky

SUMMARY_KEYS = (
    "n",
    "hit_at_1",
    "hit_at_3",
    "hit_at_5",
    "mrr",
    "char_f1",
    "rouge_l",
    "key_recall",
    "abstain_accuracy",
    "abstained_answerable",
    "abstained_unanswerable",
    "latency_p50_ms",
    "latency_p95_ms",
)
SQUAD_SUMMARY_KEYS = ("em", "f1", "contains")


@dataclass
class BackendResult:
    """The evaluation of one backend: the contract's result object, plus bookkeeping."""

    backend: str
    summary: dict
    items: list[dict]
    seconds: float
    delta: dict | None = None  # change of each summary metric against a baseline
    errors: list[str] = field(default_factory=list)

    def to_json(self) -> dict:
        result = {"backend": self.backend, "summary": self.summary, "items": self.items}
        if self.delta is not None:
            result["delta"] = self.delta
        return result


def _squad_hit_rank(passages: Sequence, item: EvalItem) -> int | None:
    for rank, passage in enumerate(passages, start=1):
        if passage.document == item.gold_document and metrics.contains_answer(
            passage.text, item.gold_answers
        ):
            return rank
    return None


def score_item(
    item: EvalItem,
    *,
    answer_text: str,
    abstained: bool,
    passages: Sequence,
    latency_ms: float,
    squad: bool,
    rewritten: str | None = None,
    error: str | None = None,
) -> dict:
    """The per-item result object (``items[]`` of the eval output)."""
    scored = metrics.strip_citations(answer_text)
    references = item.references
    if squad:
        rank = _squad_hit_rank(passages, item) if item.answerable else None
    else:
        rank = metrics.hit_rank([p.section for p in passages], item.source) if item.source else None
    result: dict = {
        "id": item.id,
        "question": item.question,
        "history": list(item.history),
        "expect": item.expect,
        "source": item.gold_document if squad else item.source,
        "hit_rank": rank,
        "abstained": abstained,
        "abstain_correct": metrics.abstain_correct(abstained, item.expect),
        "answer": answer_text,
        "expected": item.answer,
        "char_f1": _r(metrics.best_over(metrics.char_f1, scored, references))
        if item.answerable
        else None,
        "rouge_l": _r(metrics.best_over(metrics.rouge_l, scored, references))
        if item.answerable
        else None,
        "key_recall": _r(metrics.key_recall(scored, item.keys)),
        "missing_keys": metrics.missing_keys(scored, item.keys),
        "latency_ms": round(latency_ms, 1),
        "rewritten_question": rewritten,
        "retrieved": [
            {
                "rank": n,
                "document": p.document,
                "section": p.section,
                "score": round(p.score, 4),
            }
            for n, p in enumerate(passages, start=1)
        ],
    }
    if squad:
        answerable = item.answerable
        result["em"] = metrics.cmrc_em(scored, references) if answerable else None
        result["f1"] = _r(metrics.cmrc_f1(scored, references)) if answerable else None
        result["contains"] = metrics.contains_answer(scored, references) if answerable else None
    if error:
        result["error"] = error
    return result


def _r(value: float | None, digits: int = 4) -> float | None:
    return None if value is None else round(value, digits)


def summarize(items: Sequence[EvalItem], results: Sequence[dict], *, squad: bool) -> dict:
    """The contract's summary object (every key present; None when no item counts for it)."""
    pairs = list(zip(items, results, strict=True))
    if squad:
        ranked = [r["hit_rank"] for it, r in pairs if it.answerable]
    else:
        ranked = [r["hit_rank"] for it, r in pairs if it.source]
    answerable = [r for it, r in pairs if it.answerable]
    latencies = [r["latency_ms"] for r in results]
    summary = {
        "n": len(results),
        "hit_at_1": _r(metrics.hit_at_k(ranked, 1)),
        "hit_at_3": _r(metrics.hit_at_k(ranked, 3)),
        "hit_at_5": _r(metrics.hit_at_k(ranked, 5)),
        "mrr": _r(metrics.mrr(ranked)),
        "char_f1": _r(metrics.mean(r["char_f1"] for r in answerable)),
        "rouge_l": _r(metrics.mean(r["rouge_l"] for r in answerable)),
        "key_recall": _r(metrics.mean(r["key_recall"] for it, r in pairs if it.keys)),
        "abstain_accuracy": _r(metrics.mean(float(r["abstain_correct"]) for r in results)),
        # The two ways abstention goes wrong, apart: answers lost, and answers invented.
        "abstained_answerable": _r(metrics.mean(float(r["abstained"]) for r in answerable)),
        "abstained_unanswerable": _r(
            metrics.mean(float(r["abstained"]) for it, r in pairs if not it.answerable)
        ),
        "latency_p50_ms": _r(metrics.percentile(latencies, 50), 1),
        "latency_p95_ms": _r(metrics.percentile(latencies, 95), 1),
    }
    if squad:
        summary["em"] = _r(metrics.mean(float(r["em"]) for r in answerable))
        summary["f1"] = _r(metrics.mean(r["f1"] for r in answerable))
        summary["contains"] = _r(metrics.mean(float(r["contains"]) for r in answerable))
    return summary


def run_backend(
    assistant, items: Sequence[EvalItem], *, llm: str | None, squad: bool = False
) -> BackendResult:
    """Ask every item with one backend (``llm``; None: the configured one) and score it."""
    from tqdm import tqdm

    started = time.perf_counter()
    backend = assistant.backend(llm)
    assistant.retrieve(items[0].question, 1)  # warm-up: loads the embedder and the indexes
    results: list[dict] = []
    errors: list[str] = []
    progress = tqdm(
        items,
        desc=f"eval ({backend.name})",
        unit="q",
        file=sys.stderr,
        disable=len(items) < PROGRESS_MIN_ITEMS,
        mininterval=1.0,
    )
    for item in progress:
        t0 = time.perf_counter()
        try:
            stream = assistant.stream(
                item.question, list(item.history) or None, llm=llm, top_k=TOP_K
            )
            for _ in stream:
                pass
        except (BackendError, InvalidQuestionError) as exc:
            # One failed question is a wrong answer, not the end of the run; the first few all
            # failing means the backend is unusable, and that is reported as such.
            errors.append(f"{item.id}: {exc}")
            asked = len(results) + 1
            if len(errors) == asked == FAILURES_BEFORE_STOP:
                raise
            results.append(
                score_item(
                    item,
                    answer_text="",
                    abstained=False,
                    passages=stream.answer.retrieved if stream.answer is not None else [],
                    latency_ms=(time.perf_counter() - t0) * 1000,
                    squad=squad,
                    error=str(exc),
                )
            )
            continue
        latency_ms = (time.perf_counter() - t0) * 1000
        answer = stream.answer
        results.append(
            score_item(
                item,
                answer_text=answer.text,
                abstained=answer.abstained,
                passages=answer.retrieved,
                latency_ms=latency_ms,
                squad=squad,
                rewritten=answer.rewritten_question,
            )
        )
    progress.close()
    return BackendResult(
        backend=backend.name,
        summary=summarize(items, results, squad=squad),
        items=results,
        seconds=time.perf_counter() - started,
        errors=errors,
    )
