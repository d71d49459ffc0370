"""Eight browser-like sessions at once (reliability item 17): each asks its own question and then
a follow-up that only makes sense with its own history; every session must see only its own
conversation, and its follow-up must be rewritten from its own first question. Latency of every
`ask` call is printed (p50/p95)."""

from __future__ import annotations

import statistics
import threading
import time

import pytest
from ui_support import indexed_data_dir, start_app_server

pytestmark = pytest.mark.integration

SESSIONS = [
    ("什么是深度学习？", "它的基本算法有哪些？", "深度学习的基本算法有哪些？"),
    ("什么是自然语言处理？", "它有哪些应用场景？", "自然语言处理有哪些应用场景？"),
    ("什么是计算机视觉？", "它有哪些应用场景？", "计算机视觉有哪些应用场景？"),
    ("TensorFlow是什么？", "那PyTorch呢？", "PyTorch是什么？"),
    ("AI大模型的挑战是什么？", "它的发展趋势是什么？", "AI大模型的发展趋势是什么？"),
    ("GPT-3是什么？", "它可以做什么？", "GPT-3可以做什么？"),
    ("BERT是什么？", "它可以做什么？", "BERT可以做什么？"),
    ("DALL-E是什么？", "它可以生成什么？", "DALL-E可以生成什么？"),
]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    app = start_app_server(indexed_data_dir(tmp_path_factory, "sessions"))
    yield app
    app.stop()


def _text(message: dict) -> str:
    content = message["content"]
    if isinstance(content, list):
        return "".join(part.get("text", "") for part in content if isinstance(part, dict))
    return str(content)


def test_eight_sessions_see_only_their_own_history(server):
    from gradio_client import Client

    Client(server.url, verbose=False).predict("AI大模型", 1, api_name="/retrieve")  # warm-up
    latencies: list[float] = []
    results: dict[int, tuple] = {}
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(SESSIONS))
    lock = threading.Lock()

    def session(n: int) -> None:
        try:
            client = Client(server.url, verbose=False)
            top_k = 1 + n % 5  # every session its own setting too
            first, follow_up, _ = SESSIONS[n]
            barrier.wait(timeout=60)
            outputs = []
            for question in (first, follow_up):
                started = time.perf_counter()
                outputs.append(client.predict(question, "extractive", top_k, 0.2, api_name="/ask"))
                with lock:
                    latencies.append((time.perf_counter() - started) * 1000)
            results[n] = (top_k, outputs)
        except BaseException as exc:  # reported below with the session number
            errors.append(exc)

    threads = [threading.Thread(target=session, args=(n,)) for n in range(len(SESSIONS))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not errors, errors
    assert len(results) == len(SESSIONS)

    for n, (top_k, (first_out, second_out)) in results.items():
        first, follow_up, rewritten = SESSIONS[n]
        messages = second_out[0]
        users = [_text(m) for m in messages if m["role"] == "user"]
        assert users == [first, follow_up], (n, users)  # nobody else's questions
        answer = _text(messages[-1])
        assert f"Rewritten as: **{rewritten}**" in answer, (n, answer[:200])
        for _, _, other_rewritten in SESSIONS:
            if other_rewritten != rewritten:
                assert other_rewritten not in answer
        assert len(first_out[0]) == 2
        sources_html = second_out[1]
        assert sources_html.count("<details") <= top_k

    ordered = sorted(latencies)
    p50 = statistics.median(ordered)
    p95 = ordered[max(0, round(0.95 * len(ordered)) - 1)]
    print(
        f"\n{len(SESSIONS)} sessions at once, {len(ordered)} asks: "
        f"p50 {p50:.0f} ms, p95 {p95:.0f} ms, max {ordered[-1]:.0f} ms"
    )


def test_new_chat_clears_only_this_session(server):
    from gradio_client import Client

    one, two = Client(server.url, verbose=False), Client(server.url, verbose=False)
    one.predict("什么是深度学习？", "extractive", 3, 0.2, api_name="/ask")
    two.predict("什么是计算机视觉？", "extractive", 3, 0.2, api_name="/ask")
    cleared = one.predict(api_name="/new_chat")
    assert cleared[0] == []
    after_reset = one.predict("它有哪些应用场景？", "extractive", 3, 0.2, api_name="/ask")
    assert "Rewritten as" not in _text(after_reset[0][-1])  # no history left in session one
    kept = two.predict("它有哪些应用场景？", "extractive", 3, 0.2, api_name="/ask")
    assert "计算机视觉有哪些应用场景" in _text(kept[0][-1])
