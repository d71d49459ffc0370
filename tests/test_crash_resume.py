"""Reliability item 2: `survey-assistant index` killed with SIGKILL at many points, in real child
processes, and completed afterwards. After every completion Chroma holds exactly the expected chunk
ids (0 duplicates, 0 missing), the keyword index holds the same ids, and a fresh process opens the
index and retrieves from it.

Kills are timed by the clock (start-up) and by watching the manifest, which each run rewrites
atomically as it goes: while the model loads (dirty, no document yet), between and inside
documents (embedding, Chroma upsert, stale deletes), and while the keyword index is built (every
document recorded, still dirty). Also during an incremental update (edits, removals, additions)
and during `--rebuild`, and several times in a row before one completion.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import components_with

from assistant.errors import IndexInUseError
from assistant.settings import Settings
from index.chunking import chunk_document
from index.loaders import discover_files, load_file
from index.vector_store import collection_names, open_chroma_client, release_chroma_client

pytestmark = [pytest.mark.integration, pytest.mark.slow]

N_DOCS = 30
TOPICS = ["检索增强生成", "大语言模型", "向量数据库", "注意力机制", "知识蒸馏", "提示工程"]
WORDS = ["retrieval", "transformer", "embedding", "tokenizer", "benchmark", "alignment"]
Manifest = dict | None
Trigger = Callable[[Manifest, float], bool]


def document_text(i: int, version: int = 0) -> str:
    """A short Chinese/English document: one chunk, or two for every third one (a heading always
    starts a chunk), with a sentence that only this version of it holds."""
    rng = random.Random(i * 1000 + version)
    paragraphs = []
    for _ in range(2):
        zh = "，".join(f"{rng.choice(TOPICS)}的第{rng.randint(1, 999)}个要点" for _ in range(4))
        en = " ".join(rng.choice(WORDS) for _ in range(10))
        paragraphs.append(f"{zh}。{en}.")
    if i % 3 == 0:
        paragraphs[1] = f"## 第二节 {rng.choice(TOPICS)}\n\n{paragraphs[1]}"
    unique = f"{marker(i, version)}：{TOPICS[i % len(TOPICS)]}与marker{i:02d}v{version}。"
    return f"# 文档{i:02d} {WORDS[i % len(WORDS)]}\n\n{unique}\n\n" + "\n\n".join(paragraphs) + "\n"


def marker(i: int, version: int = 0) -> str:
    return f"编号{i:02d}版本{version}的专属句子"


def write_corpus(folder: Path) -> None:
    folder.mkdir(parents=True)
    for i in range(N_DOCS):
        (folder / f"doc{i:02d}.md").write_text(document_text(i), encoding="utf-8")


def expected_ids(folder: Path, settings: Settings, embeddings) -> set[str]:
    """The chunk ids a clean run must produce, from the loader and chunker directly."""
    ids: set[str] = set()
    hashes = set()
    files, _ = discover_files([folder])
    for path in files:
        doc = load_file(path, name=path.relative_to(folder.resolve()).as_posix(),
                        max_bytes=10**7, timeout_s=60)  # fmt: skip
        hashes.add(doc.content_hash)
        chunks = chunk_document(
            doc,
            max_tokens=settings.chunk_max_tokens,
            min_tokens=settings.chunk_min_tokens,
            overlap_sentences=settings.chunk_overlap_sentences,
            fits=embeddings.fits,
        )
        ids.update(chunk.id for chunk in chunks)
    assert len(hashes) == len(files), "the corpus must not repeat a document"
    return ids


def read_manifest(data_dir: Path) -> Manifest:
    """The manifest being written: a rebuild's new generation (the highest number) while one runs,
    else the live one."""
    folder = data_dir / "manifests"
    candidates = [folder / "survey.json", *folder.glob("survey.g*.json")]
    numbered = [(generation_number(path), path) for path in candidates if path.exists()]
    for _, path in sorted(numbered, reverse=True):
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
    return None


def generation_number(path: Path) -> int:
    stem = path.name.removesuffix(".json")
    return int(stem.rsplit(".g", 1)[1]) if ".g" in stem else 0


# --- triggers: when to kill ---------------------------------------------------------------------


def after_seconds(seconds: float) -> Trigger:
    return lambda manifest, elapsed: elapsed >= seconds


def dirty_with(predicate: Callable[[dict], bool]) -> Trigger:
    return lambda m, _: m is not None and m["dirty"] and predicate(m["documents"])


def documents_at_least(n: int) -> Trigger:
    return dirty_with(lambda documents: len(documents) >= n)


@dataclass
class Kill:
    scenario: str
    trigger: str
    at_s: float = 0.0
    landed: bool = False  # the process was still running and was killed
    phase: str = ""
    orphans: int = 0  # chunks in Chroma the manifest does not list (a write cut short)


@dataclass
class Figures:
    runs: int = 0
    kills: list[Kill] | None = None
    completions: int = 0
    duplicates: int = 0
    missing: int = 0
    extra: int = 0


class Harness:
    def __init__(self, tmp_path: Path, embeddings):
        self.tmp_path = tmp_path
        self.embeddings = embeddings
        self.figures = Figures(kills=[])
        self.checked: list[dict] = []  # for the fresh-process check at the end
        self.rng = random.Random(20240611)

    def settings(self, data_dir: Path) -> Settings:
        return Settings(data_dir=data_dir)

    def fresh_components(self, data_dir: Path):
        """In-process access as a new process would have it: no cached Chroma client."""
        components = components_with(self.settings(data_dir), self.embeddings)
        release_chroma_client(components.index_config)
        return components

    def run_and_kill(
        self, scenario: str, label: str, folder: Path, data_dir: Path, trigger: Trigger,
        *, jitter: float = 0.0, rebuild: bool = False, probe_lock: bool = False,
    ) -> Kill:  # fmt: skip
        env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
        env["ASSISTANT_DATA_DIR"] = str(data_dir)
        args = [sys.executable, "-m", "assistant", "index", str(folder), "--json"]
        log = (self.tmp_path / f"{scenario}-{len(self.figures.kills)}.log").open("w")
        started = time.monotonic()
        child = subprocess.Popen(
            args + (["--rebuild"] if rebuild else []),
            env=env,
            stdout=log,
            stderr=log,
            cwd=self.tmp_path,
        )
        self.figures.runs += 1
        kill = Kill(scenario, label)
        try:
            while child.poll() is None and time.monotonic() - started < 120:
                if trigger(read_manifest(data_dir), time.monotonic() - started):
                    if probe_lock:
                        self.assert_second_writer_fails_fast(folder, data_dir)
                    time.sleep(self.rng.uniform(0, jitter))
                    kill.landed = child.poll() is None
                    child.send_signal(signal.SIGKILL)
                    break
                time.sleep(0.005)
        finally:
            if child.poll() is None and not kill.landed:
                child.kill()  # never triggered within the time limit: counted as not landed
            child.wait()
            log.close()
        kill.at_s = round(time.monotonic() - started, 2)
        assert kill.landed, f"{scenario}/{label}: the run ended before the kill ({log.name})"
        assert child.returncode == -signal.SIGKILL
        kill.phase = self.phase(data_dir)
        kill.orphans = self.orphans(data_dir)
        self.figures.kills.append(kill)
        return kill

    def phase(self, data_dir: Path) -> str:
        manifest = read_manifest(data_dir)
        if manifest is None:
            return "before any write"
        if not manifest["dirty"]:
            return "clean manifest"
        return f"dirty, {len(manifest['documents'])} documents recorded"

    def orphans(self, data_dir: Path) -> int:
        """Chunks the manifest being written does not list, in the collection being written."""
        manifest = read_manifest(data_dir)
        if manifest is None or not (data_dir / "chroma").exists():
            return 0
        listed = {cid for entry in manifest["documents"].values() for cid in entry["chunk_ids"]}
        kb = self.fresh_components(data_dir).knowledge_base()
        newest = max(kb.other_generations() | {kb.pointer.live()})
        try:
            store = kb.writer_stores(newest).vector_store
        except Exception:  # the generation's collection was not created yet
            return 0
        return len(store.all_ids() - listed)

    def assert_second_writer_fails_fast(self, folder: Path, data_dir: Path) -> None:
        started = time.perf_counter()
        with pytest.raises(IndexInUseError, match="in use"):
            self.fresh_components(data_dir).indexer().index_paths([folder])
        assert time.perf_counter() - started < 2.0

    def complete_and_check(self, folder: Path, data_dir: Path, quotes: dict[str, str]) -> None:
        """Run the index again to completion, then compare every store with the expectation;
        ``quotes`` (document name -> a sentence only it holds) are retrieved in a fresh process
        at the end."""
        components = self.fresh_components(data_dir)
        report = components.indexer().index_paths([folder])
        self.figures.completions += 1
        expected = expected_ids(folder, components.settings, self.embeddings)
        assert report.errors == []
        assert (report.documents, report.chunks) == (
            len(discover_files([folder])[0]),
            len(expected),
        )

        kb = self.fresh_components(data_dir).knowledge_base()
        # A rebuild killed half-way left the old generation live; the run above deleted its own.
        assert kb.other_generations() == set(), data_dir
        names = collection_names(open_chroma_client(kb.config))
        assert names == {kb.vector_store.name}, (data_dir, names)
        listed = kb.vector_store.collection.get(include=[])["ids"]
        duplicates = len(listed) - len(set(listed))
        missing = len(expected - set(listed))
        extra = len(set(listed) - expected)
        self.figures.duplicates += duplicates
        self.figures.missing += missing
        self.figures.extra += extra
        assert (duplicates, missing, extra) == (0, 0, 0), data_dir
        assert kb.vector_store.count() == len(expected)
        manifest = kb.load_manifest()
        assert not manifest.dirty and manifest.chunk_ids() == expected
        snapshot = kb.keyword_index.load()
        assert snapshot is not None and sorted(r.id for r in snapshot.records) == sorted(listed)
        assert kb.keyword_index.current_fingerprint() == manifest.fingerprint()
        self.checked.append({"data_dir": str(data_dir), "ids": sorted(expected), "quotes": quotes})

    def report(self) -> str:
        kills = self.figures.kills
        lines = [
            f"kill/resume: {self.figures.runs} killed runs, {sum(k.landed for k in kills)} kills "
            f"landed, {self.figures.completions} completions, {self.figures.duplicates} "
            f"duplicates, {self.figures.missing} missing, {self.figures.extra} extra chunks; "
            f"{sum(k.orphans > 0 for k in kills)} kills left orphan chunks behind"
        ]
        lines += [
            f"  {k.scenario:<12} {k.trigger:<34} at {k.at_s:5.2f} s: {k.phase}"
            + (f", {k.orphans} orphan chunks" if k.orphans else "")
            for k in kills
        ]
        return "\n".join(lines)


FRESH_PROCESS_CHECK = """
import json, sys
from assistant.components import Components
from assistant.settings import Settings
from index.retrieval import HybridSearcher

results = []
for item in json.loads(sys.stdin.read()):
    components = Components(Settings(data_dir=item["data_dir"]))
    kb = components.knowledge_base()
    listed = kb.vector_store.collection.get(include=[])["ids"]
    snapshot = kb.keyword_index.load()
    searcher = HybridSearcher(kb)
    top = {quote: [p.document for p in searcher.search(quote, 3)][:1]
           for quote in item["quotes"].values()}
    results.append({"ids": listed, "keyword_ids": [r.id for r in snapshot.records], "top": top})
print(json.dumps(results, ensure_ascii=False))
"""


def fresh_process_check(harness: Harness) -> None:
    """Every index opens in a new process, holds its ids, and answers retrievals."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    final = list({item["data_dir"]: item for item in harness.checked}.values())  # last state
    result = subprocess.run(
        [sys.executable, "-c", FRESH_PROCESS_CHECK],
        input=json.dumps(final),
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    for item, found in zip(final, json.loads(result.stdout), strict=True):
        assert sorted(found["ids"]) == item["ids"], item["data_dir"]
        assert sorted(found["keyword_ids"]) == item["ids"], item["data_dir"]
        for name, quote in item["quotes"].items():
            assert found["top"][quote] == [name], (item["data_dir"], quote, found["top"][quote])


def test_kill_and_resume(tmp_path: Path, embeddings, capsys) -> None:
    harness = Harness(tmp_path, embeddings)
    corpus = tmp_path / "corpus"
    write_corpus(corpus)
    quotes = {f"doc{i:02d}.md": marker(i) for i in (0, 15, N_DOCS - 1)}

    # One fresh data directory per kill: first indexing killed in each phase, then completed.
    single_kills: list[tuple[str, Trigger, float]] = [
        ("0.5 s: interpreter start-up", after_seconds(0.5), 0.0),
        ("2 s: imports", after_seconds(2.0), 0.0),
        ("model loading (dirty, no document)", documents_at_least(0), 0.5),
        ("after 3 documents", documents_at_least(3), 0.2),
        ("after 12 documents (+ second writer)", documents_at_least(12), 0.2),
        ("after 25 documents", documents_at_least(25), 0.2),
        ("keyword index build (all recorded)", documents_at_least(N_DOCS), 0.0),
    ]
    for number, (label, trigger, jitter) in enumerate(single_kills):
        data_dir = tmp_path / f"single-{number}"
        harness.run_and_kill(
            "first run", label, corpus, data_dir, trigger, jitter=jitter,
            probe_lock="second writer" in label,
        )  # fmt: skip
        harness.complete_and_check(corpus, data_dir, quotes)

    # Several kills in a row on one directory before it is completed.
    data_dir = tmp_path / "repeated"
    for label, trigger, jitter in [
        ("3 s", after_seconds(3.0), 0.0),
        ("after 5 documents", documents_at_least(5), 0.3),
        ("after 15 documents", documents_at_least(15), 0.3),
    ]:
        harness.run_and_kill("repeated", label, corpus, data_dir, trigger, jitter=jitter)
    harness.complete_and_check(corpus, data_dir, quotes)

    # An incremental update: edits, removals and additions, killed twice in different places.
    folder = tmp_path / "library"
    shutil.copytree(corpus, folder)
    data_dir = tmp_path / "incremental"
    components_with(harness.settings(data_dir), embeddings).indexer().index_paths([folder])

    def update(edit: range, remove: range, add: range, version: int) -> None:
        for i in edit:
            (folder / f"doc{i:02d}.md").write_text(document_text(i, version), encoding="utf-8")
        for i in remove:
            (folder / f"doc{i:02d}.md").unlink()
        for i in add:
            (folder / f"doc{i:02d}.md").write_text(document_text(i), encoding="utf-8")

    before = read_manifest(data_dir)["documents"]
    update(edit=range(0, 8), remove=range(27, 30), add=range(30, 33), version=1)

    def updated_at_least(n: int) -> Trigger:
        return dirty_with(
            lambda docs: (
                sum(
                    name in before and docs[name]["content_hash"] != before[name]["content_hash"]
                    for name in docs
                )
                >= n
            )
        )

    harness.run_and_kill(
        "incremental", "removals applied (model loading)", folder, data_dir,
        dirty_with(lambda docs: "doc29.md" not in docs), jitter=0.3,
    )  # fmt: skip
    harness.run_and_kill(
        "incremental", "after 3 updated documents", folder, data_dir, updated_at_least(3),
        jitter=0.2,
    )  # fmt: skip
    harness.complete_and_check(
        folder,
        data_dir,
        {"doc00.md": marker(0, 1), "doc07.md": marker(7, 1), "doc31.md": marker(31)},
    )

    before = read_manifest(data_dir)["documents"]
    update(edit=range(8, 14), remove=range(0, 2), add=range(0), version=2)
    quotes_v2 = {"doc02.md": marker(2, 1), "doc10.md": marker(10, 2), "doc32.md": marker(32)}
    harness.run_and_kill(
        "incremental", "after 2 updated documents", folder, data_dir, updated_at_least(2),
        jitter=0.3,
    )  # fmt: skip
    harness.complete_and_check(folder, data_dir, quotes_v2)

    # --rebuild killed while the stores are dropped / early, and half-way; then plain `index`.
    harness.run_and_kill(
        "rebuild", "stores dropped (empty manifest)", folder, data_dir,
        dirty_with(lambda docs: not docs), rebuild=True, jitter=0.1,
    )  # fmt: skip
    harness.complete_and_check(folder, data_dir, quotes_v2)
    harness.run_and_kill(
        "rebuild", "after 10 documents", folder, data_dir, documents_at_least(10),
        rebuild=True, jitter=0.3,
    )  # fmt: skip
    harness.complete_and_check(folder, data_dir, quotes_v2)

    fresh_process_check(harness)

    kills = harness.figures.kills
    assert len(kills) >= 14 and all(k.landed for k in kills)
    assert harness.figures.duplicates == harness.figures.missing == 0
    with capsys.disabled():
        print("\n" + harness.report())
