"""`index --rebuild` never blanks a reader (security and reliability issue, item 4).

A real rebuild runs in a child process while this process asks in a loop through the Python API
(one long-lived reader, as the web app is) and, beside it, `survey-assistant ask` runs again and
again in fresh processes (as users of the CLI do). Every answer must quote the document it was
asked about, before, during and after the switch. Then: the old generation is gone from every
store, and a rebuild killed half-way leaves the old index answering.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from conftest import components_with
from test_crash_resume import N_DOCS, marker, write_corpus

from assistant.api import Assistant
from assistant.settings import Settings
from index.vector_store import collection_names, open_chroma_client, release_chroma_client

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ASKED = (0, 11, 23)


def child_env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    env["ASSISTANT_DATA_DIR"] = str(data_dir)
    env["ASSISTANT_LLM"] = "extractive"
    return env


def start_rebuild(folder: Path, data_dir: Path, log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "assistant", "index", str(folder), "--rebuild", "--json"],
        env=child_env(data_dir),
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )


def right_answer(answer, i: int) -> bool:
    return (
        not answer.abstained
        and bool(answer.sources)
        and answer.sources[0].document == f"doc{i:02d}.md"
        and marker(i) in answer.text
    )


@pytest.fixture
def indexed(tmp_path: Path, embeddings):
    folder = tmp_path / "library"
    write_corpus(folder)
    data_dir = tmp_path / "data"
    settings = Settings(data_dir=data_dir, llm="extractive")
    components = components_with(settings, embeddings)
    components.indexer().index_paths([folder])
    return folder, data_dir, components


def cli_asker(data_dir: Path, stop: threading.Event, results: list) -> None:
    """`survey-assistant ask --json` in a new process, again and again until told to stop."""
    i = 0
    while not stop.is_set():
        n = ASKED[i % len(ASKED)]
        i += 1
        done = subprocess.run(
            [sys.executable, "-m", "assistant", "ask", marker(n), "--json"],
            env=child_env(data_dir),
            capture_output=True,
            text=True,
            timeout=120,
        )
        try:
            payload = json.loads(done.stdout)
        except ValueError:
            payload = None
        results.append((n, done.returncode, payload, done.stderr[-500:]))


def test_readers_get_answers_every_time_during_rebuilds(indexed, tmp_path) -> None:
    folder, data_dir, components = indexed
    reader = Assistant(components=components)
    kb = components.knowledge_base()
    assert kb.pointer.live() == 0

    answers: list[tuple[int, int, bool]] = []  # (generation, document, right)
    cli_results: list = []
    for rebuild in (1, 2):
        stop = threading.Event()
        cli = threading.Thread(target=cli_asker, args=(data_dir, stop, cli_results))
        child = start_rebuild(folder, data_dir, tmp_path / f"rebuild-{rebuild}.log")
        cli.start()
        deadline = time.monotonic() + 300
        asked = 0
        while child.poll() is None and time.monotonic() < deadline:
            n = ASKED[asked % len(ASKED)]
            asked += 1
            generation = kb.pointer.live()
            answer = reader.ask(marker(n))
            answers.append((generation, n, right_answer(answer, n)))
        child.wait(timeout=60)
        for n in ASKED:  # after the switch, in the same long-lived reader
            answers.append((kb.pointer.live(), n, right_answer(reader.ask(marker(n)), n)))
        stop.set()
        cli.join(timeout=180)
        assert child.returncode == 0, (tmp_path / f"rebuild-{rebuild}.log").read_text()
        assert kb.pointer.live() == rebuild

    wrong = [a for a in answers if not a[2]]
    assert wrong == [], wrong
    seen = {generation for generation, _, _ in answers}
    assert seen == {0, 1, 2}, seen  # readers asked before and after each switch
    assert len(answers) >= 20, len(answers)

    cli_wrong = [
        (n, rc, err)
        for n, rc, payload, err in cli_results
        if rc != 0 or not payload or not payload["sources"] or marker(n) not in payload["answer"]
    ]
    assert cli_results and cli_wrong == [], cli_wrong

    # Only the live generation is left in every store.
    release_chroma_client(components.index_config)
    names = collection_names(open_chroma_client(components.index_config))
    assert names == {"survey.g2"}, names
    assert sorted(p.name for p in (data_dir / "manifests").iterdir()) == [
        "survey.g2.json",
        "survey.live",
    ]
    assert sorted(p.name for p in (data_dir / "keyword").iterdir()) == ["survey.g2"]
    assert kb.load_manifest().documents.keys() == {f"doc{i:02d}.md" for i in range(N_DOCS)}
    print(
        f"\nrebuild readers: {len(answers)} in-process answers over generations {sorted(seen)}, "
        f"{len(cli_results)} CLI answers, 0 blank"
    )


def test_a_killed_rebuild_leaves_the_old_index_answering(indexed, tmp_path) -> None:
    folder, data_dir, components = indexed
    reader = Assistant(components=components)
    child = start_rebuild(folder, data_dir, tmp_path / "killed.log")
    new_manifest = data_dir / "manifests" / "survey.g1.json"
    deadline = time.monotonic() + 120
    # Killed once the new generation holds some documents (it is being filled).
    while time.monotonic() < deadline and child.poll() is None:
        try:
            if len(json.loads(new_manifest.read_text(encoding="utf-8"))["documents"]) >= 5:
                break
        except (OSError, ValueError):
            pass
        time.sleep(0.01)
    assert child.poll() is None, "the rebuild ended before it could be killed"
    child.send_signal(signal.SIGKILL)
    child.wait()

    kb = components.knowledge_base()
    assert kb.pointer.live() == 0 and kb.other_generations() == {1}
    assert all(right_answer(reader.ask(marker(n)), n) for n in ASKED)

    # The next run (a plain one) deletes the half-built generation and keeps the live one.
    release_chroma_client(components.index_config)
    report = (
        components_with(components.settings, components.embeddings).indexer().index_paths([folder])
    )
    assert report.unchanged == N_DOCS and report.errors == []
    assert kb.other_generations() == set() and not new_manifest.exists()
    names = collection_names(open_chroma_client(components.index_config))
    assert names == {"survey"}, names
    assert all(right_answer(reader.ask(marker(n)), n) for n in ASKED)
