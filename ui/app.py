"""The web app's layout: ``build_app(components)`` makes the Gradio Blocks (``server.serve``
runs it).

Layout only: one tab per file (``chat_tab``, ``library_tab``, ``demos_tab``, ``eval_tab``). The
one Assistant is shared by every session (it is thread-safe); everything about a user lives in
``gr.State`` and in the components' values of that user's page. Gradio is imported inside the
functions: ``server.serve`` has to point Gradio's temporary folder away from the source tree and
the data directory before Gradio is imported.
"""

from __future__ import annotations

HEADER = (
    "# AI 大模型综述助手 · Survey Assistant\n"
    "基于《AI大模型的未来发展趋势与挑战》的中文问答，离线运行，回答附编号来源。 "
    "Chinese-first, offline questions and answers over a survey of large AI models, with cited sources."
)


def build_app(components, *, assistant=None, upload_root=None):
    """The Blocks app. ``assistant`` defaults to one built on ``components``; ``upload_root`` is
    the folder Gradio saves uploads in (the only place an upload is taken from), by default the
    one Gradio was configured with."""
    from pathlib import Path

    import gradio as gr
    from gradio.utils import get_upload_folder

    from assistant.api import Assistant

    from . import chat_tab, demos_tab, eval_tab, library_tab

    assistant = assistant or Assistant(components=components)
    with gr.Blocks(title="AI 大模型综述助手 Survey Assistant", analytics_enabled=False) as app:
        gr.Markdown(HEADER, elem_id="sa-header")
        with gr.Tabs():
            with gr.Tab("问答 Chat", id="chat"):
                chat_tab.build(assistant)
            with gr.Tab("文档库 Library", id="library"):
                listing, listing_outputs = library_tab.build(
                    components, assistant, upload_root=Path(upload_root or get_upload_folder())
                )
            with gr.Tab("模型演示 Demos", id="demos"):
                demos_tab.build(components.settings, assistant)
            with gr.Tab("评测 Evaluation", id="eval"):
                eval_tab.build(components, assistant)
        app.load(listing, None, listing_outputs, api_visibility="private")
    app.queue(default_concurrency_limit=2)
    return app
