"""The evaluation's outputs: the result object, the baseline comparison, report.json, report.md
and the charts.

The result object is the contract's ``{"summary", "items"}`` for one backend (plus ``backend``,
and ``delta`` against a baseline), and ``{"backends": {name: object}}`` for several.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from ..errors import UsageError
from .runner import SQUAD_SUMMARY_KEYS, SUMMARY_KEYS, BackendResult

WORST_ITEMS = 10
_TEXT_LIMIT = 300


def result_object(results: list[BackendResult]) -> dict:
    if len(results) == 1:
        return results[0].to_json()
    return {"backends": {r.backend: r.to_json() for r in results}}


# --- baseline -------------------------------------------------------------------------------------


def load_baseline(path: Path) -> dict[str | None, dict]:
    """Summaries of an earlier report.json, by backend name (None: a one-backend report that does
    not say which backend it was)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(
            f"The baseline {path} does not exist; give an earlier report.json."
        ) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UsageError(
            f"The baseline {path} cannot be read as JSON ({type(exc).__name__}); give an earlier report.json."
        ) from None
    if isinstance(data, dict) and isinstance(data.get("backends"), dict):
        found = {
            name: obj["summary"]
            for name, obj in data["backends"].items()
            if isinstance(obj, dict) and isinstance(obj.get("summary"), dict)
        }
    elif isinstance(data, dict) and isinstance(data.get("summary"), dict):
        found = {data.get("backend"): data["summary"]}
    else:
        found = {}
    if not found:
        raise UsageError(f'The baseline {path} is not an eval report (it has no "summary").')
    return found


def baseline_for(backend: str, baselines: dict[str | None, dict]) -> dict | None:
    if backend in baselines:
        return baselines[backend]
    return next(iter(baselines.values())) if len(baselines) == 1 else None


def summary_delta(summary: dict, baseline: dict) -> dict:
    """New minus old for every summary metric (None where either side has no value)."""
    delta = {}
    for key, value in summary.items():
        old = baseline.get(key)
        numeric = isinstance(value, int | float) and isinstance(old, int | float)
        delta[key] = round(value - old, 4) if numeric else None
    return delta


# --- files ---------------------------------------------------------------------------------------


def write_reports(
    out_dir: Path,
    results: list[BackendResult],
    *,
    dataset: Path,
    squad: bool,
    baselines: dict[str | None, dict] | None = None,
) -> list[Path]:
    """report.json, report.md, metrics.png and latency.png in ``out_dir``; returns their paths."""
    from .charts import plot_latency, plot_metrics

    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        report_json = out_dir / "report.json"
        report_json.write_text(
            json.dumps(result_object(results), ensure_ascii=False, indent=1) + "\n",
            encoding="utf-8",
        )
        title = dataset.stem
        charts = [
            plot_metrics(results, out_dir / "metrics.png", title),
            plot_latency(results, out_dir / "latency.png", title),
        ]
        report_md = out_dir / "report.md"
        report_md.write_text(
            render_markdown(
                results, dataset=dataset, squad=squad, baselines=baselines, charts=charts
            ),
            encoding="utf-8",
        )
    except OSError as exc:
        raise UsageError(
            f"Cannot write the report to {out_dir} ({exc.strerror or exc}); choose another --out folder."
        ) from None
    return [report_json, report_md, *charts]


# --- markdown ------------------------------------------------------------------------------------


def format_cell(value) -> str:
    """A metric as a table cell: 3 decimals below 10, 1 above, a dash for none."""
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.1f}" if abs(value) >= 10 else f"{value:.3f}"
    return str(value)


def _signed(value) -> str:
    if value is None:
        return "–"
    if isinstance(value, int):
        return f"{value:+d}"
    return f"{value:+.1f}" if abs(value) >= 10 else f"{value:+.3f}"


def _one_line(text: str, limit: int = _TEXT_LIMIT) -> str:
    text = " ".join(str(text).split()).replace("|", "\\|")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def summary_table(results: list[BackendResult], baselines: dict[str | None, dict] | None) -> str:
    """One table: a row per metric, a column per backend (with the baseline and the change)."""
    keys = list(results[0].summary)
    header = ["metric"]
    for r in results:
        header.append(r.backend)
        if baselines is not None:
            header += [f"{r.backend} baseline", "change"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for key in keys:
        row = [key]
        for r in results:
            row.append(format_cell(r.summary.get(key)))
            if baselines is not None:
                old = baseline_for(r.backend, baselines) or {}
                row += [format_cell(old.get(key)), _signed((r.delta or {}).get(key))]
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def _problems(item: dict) -> list[str]:
    found = []
    if item.get("error"):
        found.append(f"error: {item['error']}")
    if not item["abstain_correct"]:
        found.append(
            "abstained although answerable"
            if item["abstained"]
            else "answered although the documents do not hold the answer"
        )
    if item.get("source") and (item["hit_rank"] is None or item["hit_rank"] > 3):
        found.append(f"source not in the top 3 (rank {item['hit_rank'] or '>5'})")
    if item.get("missing_keys"):
        found.append("missing keys: " + ", ".join(item["missing_keys"]))
    if item.get("contains") is False:
        found.append("gold answer not in the response")
    return found


def worst_items(items: list[dict], limit: int = WORST_ITEMS) -> list[tuple[dict, list[str]]]:
    """Items with the most problems first, then the lowest character F1."""
    ranked = sorted(
        items,
        key=lambda it: (-len(_problems(it)), it["char_f1"] if it["char_f1"] is not None else 1.0),
    )
    return [(it, _problems(it)) for it in ranked[:limit]]


def _item_block(n: int, item: dict, problems: list[str]) -> str:
    lines = [f"### {n}. `{item['id']}`: {'; '.join(problems) or 'lowest scores'}", ""]
    if item.get("history"):
        lines.append(f"- History: {_one_line(' / '.join(item['history']))}")
    lines.append(f"- Question: {_one_line(item['question'])}")
    if item.get("rewritten_question"):
        lines.append(f"- Rewritten: {_one_line(item['rewritten_question'])}")
    expected = "(abstain)" if item["expect"] == "abstain" else _one_line(item["expected"])
    lines.append(f"- Expected: {expected}")
    lines.append(f"- Answer: {_one_line(item['answer']) or '(empty)'}")
    scores = [
        f"{k} {format_cell(item.get(k))}"
        for k in ("hit_rank", "char_f1", "key_recall", "f1")
        if k in item
    ]
    lines.append(f"- Scores: {', '.join(scores)}")
    if item.get("source"):
        lines.append(f"- Source: {_one_line(item['source'])}")
    retrieved = [
        f"{p['rank']}. {_one_line(p['section'] or p['document'], 80)} ({p['score']:.2f})"
        for p in item["retrieved"]
    ]
    lines.append(f"- Retrieved: {'; '.join(retrieved) or '(nothing)'}")
    return "\n".join(lines)


def render_markdown(
    results: list[BackendResult],
    *,
    dataset: Path,
    squad: bool,
    baselines: dict[str | None, dict] | None = None,
    charts: list[Path] | None = None,
) -> str:
    keys = SUMMARY_KEYS + (SQUAD_SUMMARY_KEYS if squad else ())
    parts = [
        f"# Evaluation report: {dataset.name}",
        "",
        f"- Set: `{dataset}` ({'SQuAD format' if squad else 'FAQ pairs'}), {results[0].summary['n']} questions",
        f"- Run: {time.strftime('%Y-%m-%d %H:%M:%S')}; "
        + ", ".join(f"{r.backend} {r.seconds:.1f} s" for r in results),
        "- Retrieval: top 5 passages before the relevance threshold; latency: nearest-rank "
        "percentiles after a warm-up query; answers scored without `[n]` citations.",
        f"- Metrics: {', '.join(keys)} (contracts.md).",
        "",
        "## Summary",
        "",
        summary_table(results, baselines),
        "",
    ]
    if charts:
        parts += ["## Charts", ""] + [f"![{c.stem}]({c.name})" for c in charts] + [""]
    for r in results:
        parts += [f"## Worst items: {r.backend}", ""]
        if r.errors:
            parts += [
                f"{len(r.errors)} question(s) failed with an error; they count as wrong answers.",
                "",
            ]
        for n, (item, problems) in enumerate(worst_items(r.items), start=1):
            parts += [_item_block(n, item, problems), ""]
    return "\n".join(parts)
