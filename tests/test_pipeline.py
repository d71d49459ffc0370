"""The indexing pipeline with real parts (reliability items 1 and 3-6): a real Chroma in a temporary
data directory, the packaged USE embedder, files written by the tests. After every completed run
Chroma and the keyword index hold exactly the manifest's chunks, each once."""

from __future__ import annotations

import errno
import io
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import read_index_state

from assistant.errors import DataDirError, IndexInUseError, IndexMismatchError
from index.pipeline import IndexReport

pytestmark = pytest.mark.integration

ALPHA = (
    "# 检索增强生成\n\n"
    "## 基本思路\n\n"
    "检索增强生成先从知识库中检索相关段落，再让模型依据这些段落作答。"
    "Retrieval-augmented generation grounds answers in retrieved passages.\n\n"
    "## 优点\n\n"
    "它能减少模型的幻觉，并且知识更新时无需重新训练。\n"
)
BETA = (
    "# 向量数据库\n\n"
    "向量数据库保存文本的嵌入向量，并按余弦相似度返回最相近的记录。"
    "Chroma is an embedded vector database.\n"
)
GAMMA = (
    "# 分词与关键词检索\n\n"
    "中文没有空格，关键词检索之前要先用结巴分词把句子切成词语，再计算 BM25 分数。\n"
)


def write_docs(folder: Path, docs: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in docs.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return folder


def counts(report: IndexReport) -> tuple[int, int, int, int]:
    return report.added, report.updated, report.removed, report.unchanged


def found_in_chroma(components, quote: str) -> bool:
    """Chroma's own full-text filter over the stored chunk texts."""
    collection = components.knowledge_base().vector_store.collection
    return bool(collection.get(where_document={"$contains": quote}, include=[])["ids"])


def found_in_keywords(components, quote: str) -> bool:
    snapshot = components.knowledge_base().keyword_index.load()
    return snapshot is not None and any(quote in r.text for r in snapshot.records)


def retrievable(components, quote: str) -> bool:
    in_chroma = found_in_chroma(components, quote)
    in_keywords = found_in_keywords(components, quote)
    assert in_chroma == in_keywords, f"Chroma and the keyword index disagree about {quote!r}"
    return in_chroma


def index(components, *paths: Path, rebuild: bool = False) -> IndexReport:
    report = components.indexer().index_paths(list(paths), rebuild=rebuild)
    read_index_state(components).assert_consistent()
    return report


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    return write_docs(tmp_path / "docs", {"alpha.md": ALPHA, "beta.md": BETA, "gamma.md": GAMMA})


# --- item 1: incremental indexing, duplicates, edits ---------------------------------------------


def test_incremental_add_unchanged_update_remove(components_factory, corpus, index_state) -> None:
    components = components_factory()
    first = index(components, corpus)
    assert counts(first) == (3, 0, 0, 0)
    assert first.documents == 3 and first.chunks == len(index_state(components).chroma_ids) > 0
    assert first.errors == []

    again = index(components, corpus)
    assert counts(again) == (0, 0, 0, 3)
    assert (again.documents, again.chunks) == (first.documents, first.chunks)

    old_quote = "它能减少模型的幻觉"
    assert retrievable(components, old_quote)
    (corpus / "alpha.md").write_text(
        ALPHA.replace("它能减少模型的幻觉", "它的答案可以追溯到出处"), encoding="utf-8"
    )
    (corpus / "delta.md").write_text("# 新文档\n\n提示工程研究如何写好提示词。\n", encoding="utf-8")
    edited = index(components, corpus)
    assert counts(edited) == (1, 1, 0, 2)
    assert not retrievable(components, old_quote), "the edited-out text is still indexed"
    assert retrievable(components, "它的答案可以追溯到出处")
    assert retrievable(components, "提示工程研究如何写好提示词")

    (corpus / "beta.md").unlink()
    removed = index(components, corpus)
    assert counts(removed) == (0, 0, 1, 3)
    assert not retrievable(components, "向量数据库保存文本的嵌入向量")
    state = index_state(components)
    assert removed.documents == len(state.documents) == 3
    assert removed.chunks == len(state.chroma_ids)
    assert {m["document"] for m in _metadatas(components)} == {"alpha.md", "gamma.md", "delta.md"}


def _metadatas(components) -> list[dict]:
    return [meta for _, _, meta in components.knowledge_base().vector_store.get_records()]


def test_same_file_twice(components_factory, corpus, index_state) -> None:
    components = components_factory()
    # A folder and a file inside it: the file is indexed once, under its name in the folder.
    report = index(components, corpus, corpus / "alpha.md", corpus)
    assert counts(report) == (3, 0, 0, 0) and report.errors == []
    state = index_state(components)
    assert sorted(state.documents) == ["alpha.md", "beta.md", "gamma.md"]
    # The same file again, alone: nothing changes and nothing is removed from the folder's set.
    again = index(components, corpus / "alpha.md")
    assert counts(again) == (0, 0, 0, 1)
    assert sorted(index_state(components).chroma_ids) == sorted(state.chroma_ids)
    assert report.chunks == again.chunks == len(state.chroma_ids)


def test_two_files_with_one_name_in_one_run(components_factory, tmp_path, index_state) -> None:
    one = write_docs(tmp_path / "one", {"notes.md": ALPHA})
    two = write_docs(tmp_path / "two", {"notes.md": BETA})
    components = components_factory()
    report = index(components, one, two)
    assert counts(report) == (1, 0, 0, 0)
    assert [name for name, _ in report.errors] == ["notes.md"]
    assert "same name" in report.errors[0][1] and "rename" in report.errors[0][1]
    assert retrievable(components, "它能减少模型的幻觉")


def test_same_content_under_new_name(components_factory, corpus, index_state) -> None:
    components = components_factory()
    base = index(components, corpus)
    shutil.copy(corpus / "alpha.md", corpus / "alpha-copy.md")
    copied = index(components, corpus)
    assert counts(copied) == (1, 0, 0, 3)
    assert (copied.documents, copied.chunks) == (4, base.chunks), "the copy was indexed twice"
    state = index_state(components)
    assert state.documents["alpha-copy.md"] == []
    assert len(set(state.chroma_texts.values())) == len(state.chroma_texts), "duplicate chunks"

    # The original goes: its content stays indexed, now under the copy's name.
    (corpus / "alpha.md").unlink()
    after = index(components, corpus)
    assert counts(after) == (0, 1, 1, 2)
    assert after.documents == 3 and after.chunks == base.chunks
    assert retrievable(components, "它能减少模型的幻觉")
    documents = {m["document"] for m in _metadatas(components)}
    assert documents == {"alpha-copy.md", "beta.md", "gamma.md"}
    assert index(components, corpus).unchanged == 3


def test_editing_the_original_keeps_the_copy(components_factory, corpus) -> None:
    components = components_factory()
    index(components, corpus)
    shutil.copy(corpus / "beta.md", corpus / "beta-copy.md")
    index(components, corpus)
    (corpus / "beta.md").write_text("# 向量数据库\n\n这一版只剩一句话。\n", encoding="utf-8")
    report = index(components, corpus)
    assert (report.added, report.updated) == (0, 2)  # the edit, and the copy now on its own
    assert retrievable(components, "向量数据库保存文本的嵌入向量")  # the copy's content
    assert retrievable(components, "这一版只剩一句话")
    assert {m["document"] for m in _metadatas(components)} >= {"beta.md", "beta-copy.md"}


def test_rebuild_gives_the_same_chunks(components_factory, corpus, index_state) -> None:
    components = components_factory()
    index(components, corpus)
    before = index_state(components)
    rebuilt = index(components, corpus, rebuild=True)
    assert counts(rebuilt) == (3, 0, 0, 0)
    after = index_state(components)
    assert sorted(after.chroma_ids) == sorted(before.chroma_ids)  # deterministic ids
    assert index(components, corpus).unchanged == 3


# --- item 3: bad files in a batch ----------------------------------------------------------------


def truncated_pdf() -> bytes:
    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer)
    for page in range(3):
        pdf.drawString(72, 720, f"Page {page}: retrieval augmented generation.")
        pdf.showPage()
    pdf.save()
    data = buffer.getvalue()
    return data[: len(data) // 2]


def test_bad_files_are_reported_and_the_rest_indexed(components_factory, corpus) -> None:
    (corpus / "empty.md").write_bytes(b"")
    (corpus / "screenshot.md").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8)
    (corpus / "half.pdf").write_bytes(truncated_pdf())
    gbk_text = "# 旧编码\n\n这份笔记用 GBK 编码保存，内容是关于知识图谱的介绍。\n"
    (corpus / "legacy-gbk.md").write_bytes(gbk_text.encode("gbk"))

    components = components_factory()
    report = index(components, corpus)
    errors = dict(report.errors)
    assert sorted(errors) == ["empty.md", "half.pdf", "screenshot.md"]
    assert "empty" in errors["empty.md"]
    assert "PNG" in errors["screenshot.md"]
    assert "truncated" in errors["half.pdf"]
    for name, message in errors.items():
        assert name in message and "\n" not in message and "Traceback" not in message
    # GBK is a legacy encoding, not an error: the text is decoded and indexed as written.
    assert report.added == 4 and report.documents == 4
    assert retrievable(components, "这份笔记用 GBK 编码保存")
    assert retrievable(components, "它能减少模型的幻觉")

    # A file that was indexed and now fails to load is reported, and its old chunks are kept.
    (corpus / "gamma.md").write_bytes(b"")
    again = index(components, corpus)
    assert "gamma.md" in dict(again.errors) and again.removed == 0
    assert retrievable(components, "关键词检索之前要先用结巴分词")


# --- item 6: another embedder or chunking setting ------------------------------------------------


def test_other_chunk_setting_is_refused(components_factory, corpus, index_state) -> None:
    index(components_factory(), corpus)
    before = index_state(components_factory())
    other = components_factory(chunk_max_tokens=40)
    with pytest.raises(IndexMismatchError) as excinfo:
        other.indexer().index_paths([corpus])
    message = str(excinfo.value)
    assert "index --rebuild" in message and "at most 40 tokens" in message and "\n" not in message
    assert index_state(other) == before  # nothing written, nothing mixed

    rebuilt = index(other, corpus, rebuild=True)
    assert rebuilt.added == 3
    assert sorted(index_state(other).chroma_ids) != sorted(before.chroma_ids)
    with pytest.raises(IndexMismatchError):
        components_factory().indexer().index_paths([corpus])


def test_other_embedder_is_refused_and_never_mixed(components_factory, corpus, index_state) -> None:
    default = components_factory()
    index(default, corpus)
    before = index_state(default)
    default_dimension = len(_one_vector(default))

    other = components_factory(embedder="use")
    with pytest.raises(IndexMismatchError) as excinfo:
        other.indexer().index_paths([corpus])
    assert "index --rebuild" in str(excinfo.value)
    assert "use-multilingual-v3" in str(excinfo.value)
    assert index_state(default) == before

    # Even with the manifest gone, the collection itself says which model filled it.
    manifest_path = default.knowledge_base().manifest_path
    saved = manifest_path.read_bytes()
    manifest_path.unlink()
    with pytest.raises(IndexMismatchError, match="index --rebuild"):
        components_factory(embedder="use").indexer().index_paths([corpus])
    manifest_path.write_bytes(saved)

    # --rebuild switches models, whatever filled the collection before.
    rebuilt = index(other, corpus, rebuild=True)
    assert rebuilt.added == 3
    assert len(_one_vector(other)) == 512 != default_dimension
    with pytest.raises(IndexMismatchError, match="index --rebuild"):
        components_factory().indexer().index_paths([corpus])


def _one_vector(components) -> list[float]:
    store = components.knowledge_base().vector_store
    first = sorted(store.all_ids())[0]
    return list(store.get_embeddings([first])[first])


# --- item 4: read-only, missing, corrupt data directory; disk full --------------------------------


def _make_read_only(path: Path) -> tuple[str, object]:
    """Make ``path`` and everything below it unwritable, for root as well; returns (how, undo)."""
    if os.geteuid() != 0:
        modes = {p: p.stat().st_mode for p in [path, *path.rglob("*")]}
        for p in modes:
            p.chmod(0o500 if p.is_dir() else 0o400)
        return "chmod", lambda: [p.chmod(mode) for p, mode in modes.items()]
    # root ignores permission bits; the immutable attribute stops root too (ext4, xfs, btrfs).
    if shutil.which("chattr") is None:
        pytest.skip("running as root without chattr: cannot make a folder read-only for root")
    result = subprocess.run(["chattr", "-R", "+i", str(path)], capture_output=True, text=True)
    if result.returncode != 0:
        subprocess.run(["chattr", "-R", "-i", str(path)], capture_output=True)
        pytest.skip(f"running as root and chattr +i failed here: {result.stderr.strip()}")
    return "chattr", lambda: subprocess.run(["chattr", "-R", "-i", str(path)], check=True)


def test_read_only_data_dir(components_factory, corpus, index_state) -> None:
    components = components_factory()
    index(components, corpus)
    before = index_state(components)
    data_dir = components.settings.data_dir
    (corpus / "delta.md").write_text("# 新文档\n\n只读期间加入的新文档。\n", encoding="utf-8")

    how, undo = _make_read_only(data_dir)
    try:
        with pytest.raises(DataDirError) as excinfo:
            components_factory().indexer().index_paths([corpus])
        probe = data_dir / "probe"
        with pytest.raises(OSError):  # the method really stops writes, for this user
            probe.write_text("x")
    finally:
        undo()
    message = str(excinfo.value)
    assert str(data_dir) in message and "not writable" in message, (how, message)
    assert "ASSISTANT_DATA_DIR" in message

    fresh = components_factory()
    assert index_state(fresh) == before
    resumed = index(fresh, corpus)
    assert counts(resumed) == (1, 0, 0, 3)
    assert retrievable(fresh, "只读期间加入的新文档")


def test_data_dir_below_a_file(components_factory, corpus, tmp_path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    components = components_factory(data_dir=blocker / "data")
    with pytest.raises(DataDirError) as excinfo:
        components.indexer().index_paths([corpus])
    assert str(blocker / "data") in str(excinfo.value)
    assert "ASSISTANT_DATA_DIR" in str(excinfo.value)


def test_missing_data_dir_is_created(components_factory, corpus, tmp_path) -> None:
    data_dir = tmp_path / "not" / "there" / "yet"
    components = components_factory(data_dir=data_dir)
    report = index(components, corpus)
    assert report.added == 3 and data_dir.is_dir()


def test_corrupt_manifest(components_factory, corpus, index_state) -> None:
    components = components_factory()
    first = index(components, corpus)
    manifest_path = components.knowledge_base().manifest_path
    chroma_before = sorted(index_state(components).chroma_ids)
    manifest_path.write_bytes(b"\x00\xff\xfe garbage \x89PNG {[")

    with pytest.raises(DataDirError) as excinfo:
        components_factory().indexer().index_paths([corpus])
    message = str(excinfo.value)
    assert str(manifest_path) in message and "index --rebuild" in message
    store = components_factory().knowledge_base().vector_store
    assert sorted(store.all_ids()) == chroma_before  # the chunks are still there

    for garbage in (b"", b"[]", json.dumps({"documents": {"a.md": {"x": 1}}}).encode()):
        manifest_path.write_bytes(garbage)
        with pytest.raises(DataDirError, match="index --rebuild"):
            components_factory().indexer().index_paths([corpus])

    recovered = index(components_factory(), corpus, rebuild=True)
    assert counts(recovered) == (3, 0, 0, 0) and recovered.chunks == first.chunks


def test_corrupt_vector_store_is_recovered_by_rebuild(components_factory, corpus) -> None:
    components = components_factory()
    first = index(components, corpus)
    # As a fresh process would: no Chroma client of this process may keep the old file open.
    components.knowledge_base().vector_store.close()
    sqlite = components.settings.data_dir / "chroma" / "chroma.sqlite3"
    sqlite.write_bytes(b"this is not a database" * 100)
    (corpus / "delta.md").write_text("# 新文档\n\n损坏之后加入的文档。\n", encoding="utf-8")
    with pytest.raises(DataDirError, match="index --rebuild"):
        components_factory().indexer().index_paths([corpus])
    recovered = index(components_factory(), corpus, rebuild=True)
    assert recovered.added == 4 and recovered.chunks > first.chunks
    assert retrievable(components_factory(), "损坏之后加入的文档")


@pytest.fixture
def tiny_disk(tmp_path: Path):
    """A 4 MB tmpfs (root only); unmounted afterwards."""
    mount_point = tmp_path / "tiny-disk"
    mount_point.mkdir()
    result = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount_point)],
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs to fill (needs root): {result.stderr.strip()}")
    try:
        yield mount_point
    finally:
        # Lazy: this process's Chroma client may still hold files there.
        subprocess.run(["umount", "-l", str(mount_point)], check=True)


def _fill(mount_point: Path, leave_bytes: int) -> Path:
    stats = os.statvfs(mount_point)
    filler = mount_point / "filler.bin"
    with open(filler, "wb") as handle:
        handle.write(b"\0" * max(stats.f_bavail * stats.f_frsize - leave_bytes, 0))
    return filler


@pytest.mark.parametrize("leave_kb", [0, 48], ids=["no-byte-left", "48KB-left"])
def test_disk_full(components_factory, corpus, tiny_disk, index_state, leave_kb) -> None:
    components = components_factory(data_dir=tiny_disk / "data")
    index(components, corpus)
    before = index_state(components)
    more = {f"more-{i}.md": f"# 追加文档 {i}\n\n{ALPHA}\n补充说明编号 {i}。\n" for i in range(8)}
    write_docs(corpus, more)

    filler = _fill(tiny_disk, leave_kb * 1024)
    with pytest.raises(DataDirError) as excinfo:
        components_factory(data_dir=tiny_disk / "data").indexer().index_paths([corpus])
    message = str(excinfo.value)
    assert "full" in message and str(tiny_disk / "data") in message and "\n" not in message

    filler.unlink()  # (while the disk is full, Chroma cannot even be opened to read)
    # In the same process, as a web app would retry (Chroma's client there hung after a failed
    # write until the indexer started opening a fresh one after a failure).
    resumed_components = components_factory(data_dir=tiny_disk / "data")
    store = resumed_components.knowledge_base().vector_store
    assert before.manifest_ids <= store.all_ids(), "chunks indexed before were lost"
    resumed = index(resumed_components, corpus)
    assert resumed.documents == 11 and resumed.errors == []
    assert retrievable(resumed_components, "它能减少模型的幻觉")
    assert retrievable(resumed_components, "补充说明编号 7")


# --- item 5: two writers -------------------------------------------------------------------------

HOLD_LOCK = """
import sys, time
from pathlib import Path
from index.lock import writer_lock
with writer_lock(Path(sys.argv[1])):
    print("locked", flush=True)
    time.sleep(float(sys.argv[2]))
"""


def test_second_writer_fails_fast(components_factory, corpus, index_state) -> None:
    components = components_factory()
    index(components, corpus)
    before = index_state(components)
    data_dir = components.settings.data_dir
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(data_dir), "20"],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[1],
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        (corpus / "alpha.md").write_text(ALPHA + "\n追加一句。\n", encoding="utf-8")
        started = time.perf_counter()
        with pytest.raises(IndexInUseError) as excinfo:
            components_factory().indexer().index_paths([corpus])
        elapsed = time.perf_counter() - started
        assert elapsed < 2.0, f"the second writer waited {elapsed:.1f} s"
        message = str(excinfo.value)
        assert "in use" in message and f"process {holder.pid}" in message
        assert str(data_dir) in message and "\n" not in message
        with pytest.raises(IndexInUseError):
            components_factory().indexer().remove_documents(["beta.md"])
        assert index_state(components_factory()) == before
    finally:
        holder.kill()
        holder.wait()
    # The lock dies with its holder, even when killed: the next writer goes ahead.
    assert counts(index(components_factory(), corpus)) == (0, 1, 0, 2)


def test_remove_documents(components_factory, corpus, index_state) -> None:
    components = components_factory()
    index(components, corpus)
    report = components.indexer().remove_documents(["beta.md"])
    index_state(components).assert_consistent()
    assert (report.removed, report.documents) == (1, 2)
    assert not retrievable(components, "向量数据库保存文本的嵌入向量")


def test_keyword_index_lost_is_rebuilt(components_factory, corpus, index_state) -> None:
    components = components_factory()
    index(components, corpus)
    shutil.rmtree(components.knowledge_base().keyword_index.folder)
    report = index(components_factory(), corpus)
    assert counts(report) == (0, 0, 0, 3)
    assert retrievable(components, "它能减少模型的幻觉")


def test_write_errors_are_one_clear_error(components_factory, corpus, monkeypatch) -> None:
    """An OSError deep in a run becomes a DataDirError naming the data directory."""
    from index import keyword_index

    components = components_factory()

    def broken(*args, **kwargs):
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(keyword_index.KeywordIndex, "build", broken)
    with pytest.raises(DataDirError) as excinfo:
        components.indexer().index_paths([corpus])
    assert str(components.settings.data_dir) in str(excinfo.value)
    monkeypatch.undo()
    # The documents were stored before the failure; the next run completes the interrupted one.
    assert counts(index(components_factory(), corpus)) == (0, 0, 0, 3)
