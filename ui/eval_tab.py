"""Evaluation tab: run the FAQ-pairs evaluation and show the metrics table and charts."""

from __future__ import annotations

import gradio as gr

from assistant.backends import available_backends, default_backend
from assistant.errors import AssistantError

from .eval_run import default_eval_file, evaluation_available, run_evaluation

NOTE = (
    "对 FAQ 问答对逐题提问并打分（检索命中、字符 F1、ROUGE-L、要点召回、拒答准确率、延迟）。"
    " Asks every FAQ pair and scores retrieval, answers, abstentions and latency (contracts.md)."
)


def build(components, assistant) -> None:
    settings = components.settings
    gr.Markdown(NOTE, elem_classes="sa-muted")
    if not evaluation_available():
        gr.Markdown(
            "⚠ 评测模块不可用 · The evaluation package (assistant.evaluation) is not installed."
        )
        return
    default_file = default_eval_file(settings)
    backends = available_backends(settings)
    with gr.Row(equal_height=False):
        with gr.Column(scale=2):
            gr.Markdown(
                f"默认题集 Default set: `{default_file.name}`"
                + ("" if default_file.is_file() else "（未找到 not found：请上传 upload one）"),
                elem_classes="sa-muted",
            )
            upload = gr.File(
                label="上传题集 Upload FAQ pairs (.jsonl)",
                file_types=[".jsonl"],
                elem_id="sa-eval-file",
                type="filepath",
            )
            backend = gr.Dropdown(
                choices=backends,
                value=default_backend(settings)
                if default_backend(settings) in backends
                else backends[0],
                label="回答后端 Backend",
            )
            limit = gr.Number(
                value=0, precision=0, minimum=0, label="只评前 N 题 First N only (0 = all)"
            )
            run = gr.Button("运行评测 Run evaluation", variant="primary", elem_id="sa-eval-run")
            status = gr.Markdown(elem_classes="sa-status", elem_id="sa-eval-status")
        with gr.Column(scale=3):
            table = gr.Dataframe(
                headers=["指标 Metric", "值 Value"],
                interactive=False,
                label="指标 Metrics",
                elem_id="sa-eval-table",
            )
    with gr.Row():
        chart = gr.Image(
            label="得分 Scores",
            show_label=False,
            buttons=["download", "fullscreen"],
            type="pil",
            interactive=False,
            elem_id="sa-eval-chart",
        )
        latency = gr.Image(
            label="延迟 Latency",
            show_label=False,
            buttons=["download", "fullscreen"],
            type="pil",
            interactive=False,
        )
    weakest = gr.Markdown(elem_id="sa-eval-weakest")

    def evaluate(uploaded, kind, first, progress=gr.Progress(track_tqdm=True)):  # noqa: B008 (Gradio injects it)
        path = uploaded or default_file
        progress(0, desc="评测中 Evaluating…")
        try:
            view = run_evaluation(assistant, path, llm=kind, limit=int(first or 0) or None)
        except AssistantError as exc:
            gr.Warning(str(exc))
            return f"⚠ {exc}", None, None, None, ""
        summary = f"✔ 后端 backend `{view.backend}` · 用时 {view.seconds:.1f} s"
        return (
            summary,
            view.rows,
            view.metrics_image,
            view.latency_image,
            "#### 最弱的题 Weakest items\n" + view.weakest,
        )

    run.click(
        evaluate,
        [upload, backend, limit],
        [status, table, chart, latency, weakest],
        api_name="evaluate",
        concurrency_id="eval",
        concurrency_limit=1,
    )
