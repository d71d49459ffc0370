"""The library tab's operations: indexed documents with chunk counts, a document's chunks,
deleting a document (and its uploaded file), and a retrieval test."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from assistant.errors import UsageError

from .uploads import uploads_dir

DOCUMENT_COLUMNS = ["文档 Document", "格式 Format", "片段 Chunks", "来源 Origin"]


@dataclass
class ChunkView:
    position: int
    section: str
    text: str


def _is_upload(settings, source: str) -> bool:
    return uploads_dir(settings).resolve() in Path(source).resolve().parents


def document_rows(components) -> list[list]:
    settings = components.settings
    manifest = components.knowledge_base().load_manifest()
    rows = []
    for name, entry in sorted(manifest.documents.items()):
        if entry.duplicate_of:
            origin = f"与 {entry.duplicate_of} 内容相同 · duplicate of {entry.duplicate_of}"
        elif _is_upload(settings, entry.source):
            origin = "上传 upload"
        else:
            origin = "语料 corpus"
        rows.append([name, entry.format, len(entry.chunk_ids), origin])
    return rows


def document_names(components) -> list[str]:
    return sorted(components.knowledge_base().load_manifest().documents)


def document_chunks(components, name: str) -> list[ChunkView]:
    if not name:
        raise UsageError("Choose a document first.")
    kb = components.knowledge_base()
    entry = kb.load_manifest().documents.get(name)
    if entry is None:
        raise UsageError(f"No indexed document is named '{name}'; refresh the list.")
    if entry.duplicate_of:
        entry = kb.load_manifest().documents.get(entry.duplicate_of, entry)
    if not entry.chunk_ids:
        return []
    records = kb.vector_store.get_records(entry.chunk_ids)
    chunks = [
        ChunkView(int(meta.get("position", 0)), str(meta.get("section", "")), text)
        for _, text, meta in records
    ]
    return sorted(chunks, key=lambda c: c.position)


def delete_document(components, name: str) -> str:
    """Remove a document from the index; an uploaded document's file is deleted too (a corpus
    file is left where it is: it belongs to the source tree)."""
    if not name:
        raise UsageError("Choose a document to delete first.")
    settings = components.settings
    entry = components.knowledge_base().load_manifest().documents.get(name)
    if entry is None:
        raise UsageError(f"No indexed document is named '{name}'; refresh the list.")
    report = components.indexer().remove_documents([name])
    message = f"已删除 Deleted `{name}` · 剩余文档 documents {report.documents} · 片段 chunks {report.chunks}"
    if _is_upload(settings, entry.source):
        Path(entry.source).unlink(missing_ok=True)
    return message


def retrieve_passages(assistant, query: str, k: int) -> list:
    """Ranked passages for a query, with their calibrated 0-1 relevance."""
    from assistant.question_check import check_question

    query = check_question(query, max_chars=assistant.settings.max_question_chars)
    return assistant.retrieve(query, int(k))
