"""Running the evaluation from the web app: ``assistant.evaluation`` over a FAQ-pairs file, with
the metrics table, the two charts (as images in memory) and the weakest items."""

from __future__ import annotations

import importlib.util
import tempfile
from dataclasses import dataclass
from pathlib import Path

from assistant.errors import UsageError

METRIC_LABELS = {
    "n": "题数 questions",
    "hit_at_1": "命中@1 hit@1",
    "hit_at_3": "命中@3 hit@3",
    "hit_at_5": "命中@5 hit@5",
    "mrr": "MRR",
    "char_f1": "字符 F1 char F1",
    "rouge_l": "ROUGE-L (字符 chars)",
    "key_recall": "要点召回 key recall",
    "abstain_accuracy": "拒答准确率 abstain accuracy",
    "abstained_answerable": "可答题拒答率 abstained, answerable",
    "abstained_unanswerable": "不可答题拒答率 abstained, unanswerable",
    "latency_p50_ms": "延迟 p50 latency (ms)",
    "latency_p95_ms": "延迟 p95 latency (ms)",
}
MAX_ITEMS = 500


def evaluation_available() -> bool:
    return importlib.util.find_spec("assistant.evaluation.runner") is not None


def default_eval_file(settings) -> Path:
    return settings.corpus_dir / "eval" / "survey_faq.jsonl"


@dataclass
class EvalView:
    backend: str
    rows: list[list]
    metrics_image: object  # PIL image
    latency_image: object
    weakest: str  # Markdown
    seconds: float


def run_evaluation(
    assistant, path: Path, *, llm: str | None = None, limit: int | None = None
) -> EvalView:
    if not evaluation_available():
        raise UsageError("The evaluation package is not installed with this version of the app.")
    from assistant.evaluation.charts import plot_latency, plot_metrics
    from assistant.evaluation.dataset import read_faq_pairs
    from assistant.evaluation.report import format_cell, worst_items
    from assistant.evaluation.runner import run_backend

    path = Path(path)
    if not path.is_file():
        raise UsageError(
            f"The evaluation file {path.name} does not exist; upload a JSONL file of FAQ pairs."
        )
    try:
        items = read_faq_pairs(path)
    except UsageError as exc:  # name the file, not where the server keeps it
        raise UsageError(str(exc).replace(str(path), path.name)) from None
    items = items[: min(limit or MAX_ITEMS, MAX_ITEMS)]
    result = run_backend(assistant, items, llm=llm)
    rows = [
        [METRIC_LABELS.get(key, key), format_cell(value)] for key, value in result.summary.items()
    ]
    with tempfile.TemporaryDirectory(prefix="survey-eval-") as folder:
        metrics_png = plot_metrics([result], Path(folder) / "metrics.png", path.stem)
        latency_png = plot_latency([result], Path(folder) / "latency.png", path.stem)
        metrics_image, latency_image = _load(metrics_png), _load(latency_png)
    return EvalView(
        result.backend,
        rows,
        metrics_image,
        latency_image,
        _weakest(worst_items(result.items, 5)),
        result.seconds,
    )


def _load(path: Path):
    from PIL import Image

    with Image.open(path) as image:
        return image.convert("RGB")


def _weakest(ranked) -> str:
    from .chat_view import inert

    lines = []
    for item, problems in ranked:
        if not problems:
            continue
        lines.append(
            f"- `{inert(item['id'])}` {inert(item['question'])} — {inert('; '.join(problems))}"
        )
    return "\n".join(lines) or "所有题目都没有明显问题 · No item has a problem."
