"""PNG charts of an evaluation: scores per backend, and the latency distribution.

Drawn with matplotlib's object API on the Agg canvas (no pyplot state, no GUI backend). Labels are
ASCII unless a font that renders Chinese is installed (``fc-list :lang=zh``; e.g. Noto Sans CJK),
so a missing font never turns text into boxes.
"""

from __future__ import annotations

from pathlib import Path

from .runner import SQUAD_SUMMARY_KEYS, SUMMARY_KEYS, BackendResult

RATE_METRICS = tuple(
    key for key in SUMMARY_KEYS + SQUAD_SUMMARY_KEYS if key != "n" and not key.startswith("latency")
)
_CJK_FAMILIES = (
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "Source Han Sans SC",
    "Source Han Sans CN",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
    "Droid Sans Fallback",
    "AR PL UMing CN",
    "SimHei",
    "Microsoft YaHei",
    "PingFang SC",
)


def chinese_font() -> str | None:
    """The family name of an installed font that renders Chinese, if any."""
    from matplotlib import font_manager

    installed = {f.name for f in font_manager.fontManager.ttflist}
    return next((family for family in _CJK_FAMILIES if family in installed), None)


def _label(text: str, cjk: bool) -> str:
    return text if cjk or text.isascii() else text.encode("ascii", "replace").decode()


def _figure(width: float, height: float):
    from matplotlib import rcParams
    from matplotlib.figure import Figure

    family = chinese_font()
    if family:
        rcParams["font.sans-serif"] = [family, *rcParams["font.sans-serif"]]
    return Figure(figsize=(width, height), dpi=110, layout="constrained"), family is not None


def plot_metrics(results: list[BackendResult], path: Path, title: str) -> Path:
    """Grouped bars: every 0-1 score of the summary, one bar per backend."""
    names = [m for m in RATE_METRICS if any(r.summary.get(m) is not None for r in results)]
    fig, cjk = _figure(max(6.0, 0.9 * len(names) + 2), 4.2)
    ax = fig.add_subplot()
    width = 0.8 / max(1, len(results))
    for n, result in enumerate(results):
        values = [result.summary.get(m) or 0.0 for m in names]
        xs = [i + (n - (len(results) - 1) / 2) * width for i in range(len(names))]
        bars = ax.bar(xs, values, width, label=result.backend)
        ax.bar_label(bars, labels=[f"{v:.2f}" for v in values], fontsize=7, padding=1)
    ax.set_xticks(range(len(names)), names, rotation=30, ha="right")
    ax.set_ylim(0, 1.2)  # room for the value labels and the legend
    ax.set_ylabel("score (0-1)")
    ax.set_title(_label(f"Evaluation scores - {title}", cjk))
    ax.grid(axis="y", alpha=0.3)
    ax.legend(loc="upper right", fontsize=8, ncol=len(results))
    fig.savefig(path)
    return path


def plot_latency(results: list[BackendResult], path: Path, title: str) -> Path:
    """Histogram of per-question latency (all backends overlaid) and a box plot per backend."""
    from matplotlib.ticker import MaxNLocator

    fig, cjk = _figure(9.0, 4.0)
    hist, box = fig.subplots(1, 2, width_ratios=[2, 1])
    series = [[item["latency_ms"] for item in r.items] for r in results]
    for result, values in zip(results, series, strict=True):
        hist.hist(values, bins=30, alpha=0.6, label=result.backend)
    hist.set_xlabel("latency per question (ms)")
    hist.set_ylabel("questions")
    hist.yaxis.set_major_locator(MaxNLocator(integer=True))
    hist.set_title(_label(f"Latency - {title}", cjk))
    hist.legend(fontsize=8)
    box.boxplot(series, tick_labels=[r.backend for r in results], showfliers=True)
    box.set_ylabel("ms")
    box.set_title("p50 / spread")
    for ax in (hist, box):
        ax.grid(alpha=0.3)
    fig.savefig(path)
    return path
