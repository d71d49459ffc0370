"""`survey-assistant index` as scripts see it (contracts.md): the JSON summary, exit codes 0/1/2
(and 3: indexed, but some files skipped),
one clear line per problem on stderr and never a traceback. Real processes, real models; only the
first run embeds anything, later runs find the documents unchanged and load no model."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

SUMMARY_KEYS = {"documents", "chunks", "added", "updated", "removed", "unchanged", "seconds"}
DOCS = {
    "rag.md": "# 检索增强生成\n\n检索增强生成先检索相关段落，再依据它们作答。\n",
    "notes/bm25.md": "# BM25\n\nBM25 is a ranking function used by keyword search engines.\n",
}


def run_cli(*args: str, data_dir: Path, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    return subprocess.run(
        [sys.executable, "-m", "assistant", *args],
        env=clean | {"ASSISTANT_DATA_DIR": str(data_dir)} | env,
        capture_output=True,
        text=True,
        timeout=300,
        cwd=data_dir.parent,
    )


def assert_clean_failure(result: subprocess.CompletedProcess, code: int) -> str:
    """Exit ``code``; stderr is one line per problem, no traceback anywhere."""
    assert result.returncode == code, result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert lines and all(line.startswith("survey-assistant: ") for line in lines), lines
    return result.stderr


@pytest.fixture(scope="module")
def indexed(tmp_path_factory) -> tuple[Path, Path, subprocess.CompletedProcess]:
    """(folder, data_dir, result of the first `index --json`)."""
    root = tmp_path_factory.mktemp("cli")
    folder = root / "docs"
    for name, text in DOCS.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text, encoding="utf-8")
    data_dir = root / "data"
    return folder, data_dir, run_cli("index", str(folder), "--json", data_dir=data_dir)


def test_json_summary(indexed) -> None:
    folder, data_dir, first = indexed
    assert first.returncode == 0, first.stderr
    assert "Traceback" not in first.stderr
    summary = json.loads(first.stdout)  # one JSON object and nothing else on stdout
    assert set(summary) == SUMMARY_KEYS
    assert all(type(summary[k]) is int for k in SUMMARY_KEYS - {"seconds"})
    assert isinstance(summary["seconds"], float) and summary["seconds"] > 0
    assert (summary["documents"], summary["added"], summary["updated"]) == (2, 2, 0)
    assert summary["chunks"] >= 2

    again = run_cli("index", str(folder), "--json", data_dir=data_dir)
    assert again.returncode == 0, again.stderr
    repeat = json.loads(again.stdout)
    assert (repeat["unchanged"], repeat["added"], repeat["chunks"]) == (2, 0, summary["chunks"])


def test_text_summary(indexed) -> None:
    folder, data_dir, _ = indexed
    result = run_cli("index", str(folder), data_dir=data_dir)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("2 documents, ") and "2 unchanged" in result.stdout


@pytest.mark.parametrize(
    "args",
    [("index", "--bogus"), ("index", "--rebuild=yes"), (), ("frobnicate",)],
    ids=["unknown-flag", "flag-with-value", "no-command", "unknown-command"],
)
def test_bad_usage_exits_2(tmp_path, args) -> None:
    result = run_cli(*args, data_dir=tmp_path / "data")
    stderr = assert_clean_failure(result, 2)
    assert len(stderr.strip().splitlines()) == 1 and "--help" in stderr
    assert result.stdout == ""


def test_invalid_setting_exits_2(tmp_path) -> None:
    result = run_cli(
        "index", "--json", data_dir=tmp_path / "data", ASSISTANT_CHUNK_MAX_TOKENS="many"
    )
    assert "ASSISTANT_CHUNK_MAX_TOKENS" in assert_clean_failure(result, 2)


def test_skipped_files_exit_3_and_the_rest_is_indexed(indexed) -> None:
    folder, data_dir, _ = indexed
    bad = {"empty.md": b"", "photo.md": b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4}
    for name, data in bad.items():
        (folder / name).write_bytes(data)
    try:
        result = run_cli("index", str(folder), "--json", data_dir=data_dir)
    finally:
        for name in bad:
            (folder / name).unlink()
    stderr = assert_clean_failure(result, 3)  # not 1: the run itself did its work
    lines = stderr.strip().splitlines()
    assert len(lines) == 3  # one line per failed file, then the count
    assert lines[0].startswith("survey-assistant: skipped empty.md: ") and "empty" in lines[0]
    assert lines[1].startswith("survey-assistant: skipped photo.md: ") and "PNG" in lines[1]
    assert "2 file(s) skipped" in lines[2] and "exit code 3" in lines[2]
    summary = json.loads(result.stdout)  # the summary is still printed for scripts
    assert (summary["documents"], summary["unchanged"]) == (2, 2)


def test_nonexistent_path_exits_1(tmp_path) -> None:
    missing = tmp_path / "no-such-folder"
    result = run_cli("index", str(missing), "--json", data_dir=tmp_path / "data")
    stderr = assert_clean_failure(result, 1)
    assert stderr == f"survey-assistant: {missing} does not exist; check the path and try again.\n"
    assert result.stdout == ""


def test_unsupported_file_exits_1(tmp_path) -> None:
    sheet = tmp_path / "table.xlsx"
    sheet.write_bytes(b"PK\x03\x04")
    result = run_cli("index", str(sheet), data_dir=tmp_path / "data")
    assert "not a supported file type" in assert_clean_failure(result, 1)


def test_index_problems_exit_1_with_the_fix(indexed, tmp_path) -> None:
    folder, data_dir, _ = indexed
    other_chunks = run_cli("index", str(folder), data_dir=data_dir, ASSISTANT_CHUNK_MAX_TOKENS="64")
    assert "index --rebuild" in assert_clean_failure(other_chunks, 1)

    corrupt = tmp_path / "corrupt"
    (corrupt / "manifests").mkdir(parents=True)
    (corrupt / "manifests" / "survey.json").write_bytes(b"\xff\xfe{not json")
    result = run_cli("index", str(folder), data_dir=corrupt)
    stderr = assert_clean_failure(result, 1)
    assert "corrupt" in stderr and "index --rebuild" in stderr


def test_index_in_use_exits_1(indexed) -> None:
    folder, data_dir, _ = indexed
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(data_dir)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        result = run_cli("index", str(folder), "--json", data_dir=data_dir)
    finally:
        holder.kill()
        holder.wait()
    stderr = assert_clean_failure(result, 1)
    assert "in use" in stderr and f"process {holder.pid}" in stderr


HOLD_LOCK = """
import sys, time
from pathlib import Path
from index.lock import writer_lock
with writer_lock(Path(sys.argv[1])):
    print("locked", flush=True)
    time.sleep(60)
"""


def test_links_out_of_the_folder_are_refused_and_never_read(tmp_path) -> None:
    """``ln -s /etc/passwd docs/passwd.md``: the secret is not indexed, not recorded as a source
    and not answerable; the refusal is one sentence naming the flag that allows links."""
    secret = tmp_path / "outside" / "secret.md"
    secret.parent.mkdir()
    secret.write_text("# 机密\n\n口令是 CANARY-LINK-5521，不得外传。\n", encoding="utf-8")
    docs = tmp_path / "docs"
    (docs / "sub").mkdir(parents=True)
    (docs / "rag.md").write_text(DOCS["rag.md"], encoding="utf-8")
    (docs / "passwd.md").symlink_to(secret)
    (docs / "linked-folder").symlink_to(secret.parent, target_is_directory=True)
    (docs / "sub" / "inner.md").symlink_to(docs / "rag.md")  # inside the folder: fine
    (docs / "dangling.md").symlink_to(tmp_path / "nowhere.md")
    os.mkfifo(docs / "pipe.md")  # a reader of a pipe would block forever
    data_dir = tmp_path / "data"
    result = run_cli("index", str(docs), "--json", data_dir=data_dir)
    stderr = assert_clean_failure(result, 3)
    assert "passwd.md" in stderr and "outside the folder given" in stderr
    assert "linked-folder" in stderr and "--follow-links" in stderr
    assert "dangling.md" in stderr and "pipe.md" in stderr and "not a regular file" in stderr
    assert json.loads(result.stdout)["documents"] == 1  # rag.md, once (its link inside too)
    manifest = (data_dir / "manifests" / "survey.json").read_text(encoding="utf-8")
    assert "secret" not in manifest and "CANARY" not in manifest
    ask = run_cli("ask", "口令是什么？ CANARY-LINK-5521", "--json", data_dir=data_dir,
                  ASSISTANT_LLM="extractive")  # fmt: skip
    assert ask.returncode == 0, ask.stderr
    answer = json.loads(ask.stdout)
    assert "CANARY" not in answer["answer"] + json.dumps(answer["sources"], ensure_ascii=False)

    allowed = run_cli("index", str(docs), "--json", "--follow-links", data_dir=data_dir)
    assert allowed.returncode == 3  # the dangling link and the pipe are still refused
    assert json.loads(allowed.stdout)["documents"] >= 2
    assert "passwd.md" not in allowed.stderr


def test_indexing_writes_the_gloss_table(indexed) -> None:
    # Written by the indexer (index/glosses.py), so that a first question does not spend a
    # second reading CC-CEDICT; a valid table is opened, never written again.
    _, data_dir, first = indexed
    assert first.returncode == 0, first.stderr
    table = data_dir / "models" / "cedict-glosses.sqlite"
    assert table.is_file()
    import sqlite3

    with sqlite3.connect(table) as db:
        row = db.execute("SELECT english FROM glosses WHERE word = '引擎'").fetchone()
    assert row and "engine" in row[0].split()
