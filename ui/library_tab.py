"""Library tab: indexed documents, uploads with server-side checks, chunks, deletion and a
retrieval test; layout and wiring only (the operations are in ``library`` and ``uploads``)."""

from __future__ import annotations

from pathlib import Path

import gradio as gr

from assistant.documents import SUPPORTED_SUFFIXES
from assistant.errors import AssistantError

from . import chat_view, library
from .uploads import SessionQuota, remove_received, upload_and_index

# Index writes are serialised in this process; another process writing the same data directory
# is refused by the indexer's lock with a clear message.
WRITES = "library-writes"


def build(components, assistant, *, upload_root: Path):
    settings = components.settings
    quota = SessionQuota(settings.max_session_upload_files, settings.max_session_upload_mb)

    def listing():
        try:
            names = library.document_names(components)
            rows = library.document_rows(components)
        except AssistantError as exc:  # e.g. a corrupt manifest: say so, keep the page usable
            gr.Warning(str(exc))
            return [], gr.update(choices=[], value=None)
        return rows, gr.update(choices=names, value=names[0] if names else None)

    try:
        initial_names = library.document_names(components)
    except AssistantError:
        initial_names = []

    with gr.Row(equal_height=False):
        with gr.Column(scale=3):
            documents = gr.Dataframe(
                headers=library.DOCUMENT_COLUMNS,
                datatype=["str", "str", "number", "str"],
                interactive=False,
                label="已索引文档 Indexed documents",
                elem_id="sa-documents",
            )
            chosen = gr.Dropdown(
                label="文档 Document",
                choices=initial_names,
                allow_custom_value=True,  # the name is checked by the library operations
                elem_id="sa-doc",
            )
            with gr.Row():
                view = gr.Button("查看片段 View chunks", size="sm", elem_id="sa-view")
                delete = gr.Button("删除 Delete", variant="stop", size="sm", elem_id="sa-delete")
                refresh = gr.Button("刷新 Refresh", size="sm")
            library_status = gr.Markdown(elem_classes="sa-status", elem_id="sa-library-status")
        with gr.Column(scale=2):
            files = gr.File(
                label="上传文档 Upload documents",
                file_count="multiple",
                file_types=list(SUPPORTED_SUFFIXES),
                type="filepath",
                height=160,
                elem_id="sa-upload",
            )
            gr.Markdown(
                f"支持 Supported: {' '.join(SUPPORTED_SUFFIXES)}（FAQ: .jsonl / .csv 问题,答案）· "
                f"一次最多 at most {settings.max_upload_files} 个文件 files · "
                f"每个 each ≤ {settings.max_upload_mb:g} MB",
                elem_classes="sa-muted",
            )
            upload = gr.Button("上传并索引 Upload & index", variant="primary", elem_id="sa-index")
            upload_status = gr.Markdown(elem_classes="sa-status", elem_id="sa-upload-status")
    with gr.Row(equal_height=False):
        with gr.Column(scale=3):
            chunks = gr.HTML(js_on_load=None, elem_id="sa-chunks", padding=False)
        with gr.Column(scale=2):
            gr.Markdown("#### 检索测试 Retrieval test")
            query = gr.Textbox(
                show_label=False,
                placeholder="输入查询，查看排序后的段落 · A query, to see the ranked passages",
                elem_id="sa-retrieval-query",
            )
            with gr.Row():
                k = gr.Slider(1, 10, value=settings.top_k, step=1, label="top-k", scale=3)
                search = gr.Button("检索 Search", scale=1, elem_id="sa-retrieval-search")
            results = gr.HTML(js_on_load=None, elem_id="sa-retrieval", padding=False)

    def do_upload(paths, request: gr.Request, progress=gr.Progress()):  # noqa: B008
        try:
            quota.take(request.session_hash or "", [Path(p) for p in paths or []])
            result = upload_and_index(
                components,
                paths or [],
                progress=lambda f, desc: progress(f, desc=desc),
                upload_root=upload_root,
            )
        except AssistantError as exc:
            gr.Warning(str(exc))
            return f"⚠ {exc}", *listing(), None  # the received files are gone: choose again
        finally:
            remove_received(paths or [], upload_root)  # copied into the data dir, or refused
        return result.markdown(), *listing(), None

    def do_view(name):
        try:
            found = library.document_chunks(components, name)
        except AssistantError as exc:
            return chat_view.sources_panel([], title="片段 Chunks", note=str(exc))
        return chat_view.chunk_list(found, title=f"片段 Chunks · {name}")

    def do_delete(name):
        if not name:
            return "已取消 Cancelled.", *listing(), ""
        try:
            message = library.delete_document(components, name)
        except AssistantError as exc:
            gr.Warning(str(exc))
            return f"⚠ {exc}", *listing(), ""
        return message, *listing(), ""

    def do_search(text, top):
        try:
            passages = library.retrieve_passages(assistant, text, top)
        except AssistantError as exc:
            return chat_view.sources_panel([], title="检索结果 Results", note=str(exc))
        return chat_view.sources_panel(
            passages, title="检索结果 Results", note="排名与相关度（0-1）· Rank and relevance (0-1)"
        )

    listing_outputs = [documents, chosen]
    upload.click(
        do_upload,
        files,
        [upload_status, *listing_outputs, files],
        api_name="upload",
        concurrency_id=WRITES,
        concurrency_limit=1,
    )
    delete.click(
        do_delete,
        chosen,
        [library_status, *listing_outputs, chunks],
        js="(name) => (name && confirm('删除 Delete ' + name + ' ?')) ? name : null",
        api_name="delete_document",
        concurrency_id=WRITES,
        concurrency_limit=1,
    )
    view.click(do_view, chosen, chunks, api_name="document_chunks")
    refresh.click(listing, None, listing_outputs, api_visibility="private")
    search.click(do_search, [query, k], results, api_name="retrieve")
    query.submit(do_search, [query, k], results, api_visibility="private")
    return listing, listing_outputs
