"""Indexing figures (issue: foundation): survey cold/warm with model load apart, unchanged
re-index, chunking and indexing throughput on the 256 CMRC 2018 trial paragraphs, peak memory."""

from __future__ import annotations

from assistant.components import Components
from assistant.settings import SOURCE_ROOT, Settings
from index.chunking import chunk_document

from .cmrc import load_cmrc, write_paragraphs
from .common import fresh_dir, median, peak_rss_mb, row, timed


def main() -> None:
    print("Indexing (2 cores; shared machine, figures are noisy)")
    corpus = SOURCE_ROOT / "corpus"

    components = Components(Settings(data_dir=fresh_dir("bench-idx-cold-")))
    load_s, _ = timed(components.embeddings.load)
    row("embedding model load (USE multilingual v3)", f"{load_s:.2f} s")
    cold_s, report = timed(lambda: components.indexer().index_paths([corpus]))
    row("survey index, cold (first Chroma/jieba use)", f"{cold_s:.2f} s", f"{report.chunks} chunks")

    warm = []
    for _ in range(3):
        other = Components(
            Settings(data_dir=fresh_dir("bench-idx-warm-")), embeddings=components.embeddings
        )
        seconds, _ = timed(lambda o=other: o.indexer().index_paths([corpus]))
        warm.append(seconds)
    row("survey index, warm (median of 3)", f"{median(warm):.2f} s", "goal < 3 s")

    unchanged = [timed(lambda: components.indexer().index_paths([corpus]))[0] for _ in range(5)]
    row(
        "re-index with nothing changed (median of 5)",
        f"{median(unchanged) * 1000:.0f} ms",
        "goal < 500 ms",
    )

    docs, _ = load_cmrc()
    settings = components.settings
    chunk_runs = []
    for _ in range(3):
        seconds, chunks = timed(
            lambda: [
                c
                for d in docs
                for c in chunk_document(
                    d,
                    max_tokens=settings.chunk_max_tokens,
                    min_tokens=settings.chunk_min_tokens,
                    overlap_sentences=settings.chunk_overlap_sentences,
                )
            ]
        )
        chunk_runs.append((seconds, len(chunks)))
    seconds, n_chunks = sorted(chunk_runs)[1]
    row("CMRC 256 paragraphs: chunking", f"{n_chunks / seconds:.0f} chunks/s", f"{n_chunks} chunks")

    folder = write_paragraphs(docs, fresh_dir("bench-cmrc-docs-"))
    cmrc = Components(
        Settings(data_dir=fresh_dir("bench-idx-cmrc-")),
        embeddings=components.embeddings,
        collection="cmrc-bench",
    )
    seconds, report = timed(lambda: cmrc.indexer().index_paths([folder]))
    row(
        "CMRC 256 paragraphs: full indexing (embedding-bound)",
        f"{report.chunks / seconds:.1f} chunks/s",
        "goal >= 100 chunks/s",
    )
    row("peak memory (RSS)", f"{peak_rss_mb():.0f} MB")


if __name__ == "__main__":
    main()
