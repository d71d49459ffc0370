"""The ``openai`` backend against a real OpenAI-compatible server (``llama_cpp.server`` with the
packaged SmolLM2, on loopback), and against loopback servers that fail the way real ones do
(reliability 12): each fault is a clear error within seconds, and the assistant keeps answering.
"""

from __future__ import annotations

import time

import pytest

pytest.register_assert_rewrite("llm_support")

from llm_support import FaultServer, LlamaServer, free_port, make_components  # noqa: E402

from assistant.api import Assistant  # noqa: E402
from assistant.citations import cited_numbers  # noqa: E402
from assistant.doctor import collect_checks  # noqa: E402
from assistant.errors import BackendError  # noqa: E402

pytest_plugins = ["llm_support"]
pytestmark = pytest.mark.llm

QUESTION = "PyTorch是谁开发的？"
# Tight limits for the fault tests: a fault must surface in seconds.
FAST = {
    "request_timeout_s": 2.0,
    "connect_timeout_s": 1.0,
    "max_retries": 1,
    "api_first_token_timeout_s": 2.0,
    "api_token_gap_timeout_s": 2.0,
}


@pytest.fixture(scope="module")
def llama_server(smollm_path):
    server = LlamaServer(smollm_path, n_ctx=2048)
    yield server
    server.stop()


@pytest.fixture
def openai_env(clean_env):
    clean_env.setenv("OPENAI_API_KEY", "sk-test-anything")
    return clean_env


def test_answer_streams_from_a_real_compatible_server(
    llama_server, openai_env, llm_data_dir, llm_embeddings
):
    openai_env.setenv("ASSISTANT_LLM", "openai")
    openai_env.setenv("OPENAI_BASE_URL", llama_server.base_url)
    openai_env.setenv("ASSISTANT_OPENAI_MODEL", llama_server.model_id)
    # SmolLM2's tokenizer spends more tokens on Chinese than cl100k: leave it a margin.
    components = make_components(
        llm_data_dir,
        llm_embeddings,
        openai_context_tokens=900,
        max_answer_tokens=48,
        context_passages=2,
    )
    assert components.settings.llm == "openai"
    assistant = Assistant(components=components)
    stream = assistant.stream(QUESTION)
    pieces = list(stream)
    answer = stream.answer
    print(f"{len(pieces)} pieces: {answer.text!r}")
    assert answer.backend == "openai" and not answer.from_faq
    assert len(pieces) > 1 and "".join(pieces).strip() == answer.text and answer.text
    assert answer.sources and any("Facebook" in s.text for s in answer.sources)
    assert all(1 <= n <= len(answer.sources) for n in cited_numbers(answer.text))
    check = {c.name: c for c in collect_checks(components)}["API model (openai)"]
    assert check.ok and f"endpoint {llama_server.base_url} answers" in check.detail, check.detail
    assert "not among" not in check.detail  # the model name is one the server lists


def test_answer_length_is_bounded_on_a_compatible_server(
    llama_server, openai_env, llm_data_dir, llm_embeddings, smollm_path
):
    """LangChain sends only ``max_completion_tokens``; a compatible server reads ``max_tokens``."""
    from assistant.local_model.process import ModelProcess, WorkerConfig

    openai_env.setenv("OPENAI_BASE_URL", llama_server.base_url)
    components = make_components(
        llm_data_dir,
        llm_embeddings,
        llm="openai",
        openai_model=llama_server.model_id,
        openai_context_tokens=900,
        max_answer_tokens=24,
    )
    assistant = Assistant(components=components)
    backend = assistant.backend()
    passages = assistant.retrieve("What is PyTorch?")
    question = "Write a long essay about PyTorch."
    raw = "".join(
        backend.stream_answer(question, backend.select_evidence(question, passages, "en"), "en")
    )
    counter = ModelProcess(WorkerConfig(model_path=str(smollm_path), n_ctx=512))
    try:  # the model's own tokenizer, in its own process (pytest never loads llama.cpp)
        tokens = counter.count_tokens(raw)
    finally:
        counter.close()
    assert 0 < tokens <= 24 + 2, (tokens, raw)


def test_client_timeouts_and_retries_come_from_the_settings(openai_env, tmp_path):
    from assistant.backends.openai_chat import build_openai_chat
    from assistant.settings import Settings

    openai_env.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    model = build_openai_chat(Settings(data_dir=tmp_path, **FAST))
    assert model.max_retries == 1
    assert model.request_timeout.read == 2.0 and model.request_timeout.connect == 1.0
    defaults = build_openai_chat(Settings(data_dir=tmp_path))
    assert defaults.request_timeout.read == 8.0 and defaults.request_timeout.connect == 5.0


@pytest.fixture(scope="module")
def fault_components(llm_data_dir, llm_embeddings):
    return make_components(llm_data_dir, llm_embeddings, llm="extractive", **FAST)


FAULTS = {
    # mode: (words of the error, requests the server should see)
    "down": ("cannot be reached", None),
    "silent": ("did not answer in time", 2),
    "stall": ("did not answer in time", 1),
    # HTTP 200, then only SSE keep-alive comments: a read timeout never fires on its own.
    "keepalive": ("sent no answer within 2 s", 1),
    "keepalive-after-a-token": ("stopped for over 2 s in the middle of the answer", 1),
    "429": ("rate-limiting requests (HTTP 429)", 1),  # Retry-After: 60 is not waited for
    "500": ("internal error (HTTP 500)", 2),
    "invalid-json": ("holds no answer", 1),
    "invalid-sse": ("not valid JSON", 1),
}


@pytest.mark.parametrize("mode", list(FAULTS))
def test_a_failing_endpoint_is_a_clear_error_within_seconds(openai_env, fault_components, mode):
    reason, requests = FAULTS[mode]
    server = None if mode == "down" else FaultServer(mode)
    try:
        base_url = server.base_url if server else f"http://127.0.0.1:{free_port()}/v1"
        openai_env.setenv("OPENAI_BASE_URL", base_url)
        assistant = Assistant(components=fault_components)
        assert assistant.ask(QUESTION).text  # warm: retrieval loaded, so only the call is timed
        settings = assistant.settings
        started = time.perf_counter()
        pieces = []
        stream = assistant.stream(QUESTION, llm="openai")
        with pytest.raises(BackendError) as excinfo:
            for piece in stream:
                pieces.append(piece)
        elapsed = time.perf_counter() - started
        message = str(excinfo.value)
        print(f"{mode}: {elapsed:.2f} s, {server.requests if server else 0} request(s): {message}")
        # Each try waits at most connect + read timeout; one back-off between tries (< 1 s).
        tries = settings.max_retries + 1
        bound = (settings.connect_timeout_s + settings.api_first_token_timeout_s) * tries + 6.0
        assert elapsed < bound, (elapsed, bound)
        assert reason in message and "'openai'" in message and "OPENAI_BASE_URL" in message
        assert "\n" not in message and "Traceback" not in message and "sk-test" not in message
        if requests is not None:
            assert server.requests == requests
        if mode in ("stall", "keepalive-after-a-token"):
            # What arrived before the stall is shown, checked and cited like a whole sentence.
            assert pieces == ["深度学习[1]"]
        # The answer records the error; its passages can still be shown, and the assistant
        # keeps answering.
        failed = stream.answer
        assert failed is not None and failed.done and failed.error == message
        assert not failed.abstained and failed.cut_off == bool(pieces)
        assert any("Facebook" in p.text for p in failed.sources)
        answer = assistant.ask("计算机视觉有哪些应用场景？")
        assert answer.backend == "extractive" and "自动驾驶" in answer.text
    finally:
        if server:
            server.close()


@pytest.mark.parametrize("mode", ["silent", "keepalive"])
def test_the_defaults_bound_a_stalled_server_within_20_s(
    openai_env, llm_data_dir, llm_embeddings, mode
):
    """A server that accepts and never answers, and one that answers 200 and then sends an SSE
    keep-alive comment every 3 s and never a token: with the default settings both are a clear
    error within 20 s."""
    server = FaultServer(mode, keepalive_s=3.0)
    try:
        openai_env.setenv("OPENAI_BASE_URL", server.base_url)
        assistant = Assistant(
            components=make_components(llm_data_dir, llm_embeddings, llm="extractive")
        )
        assistant.ask(QUESTION)
        started = time.perf_counter()
        with pytest.raises(BackendError) as excinfo:
            assistant.ask(QUESTION, llm="openai")
        elapsed = time.perf_counter() - started
        print(f"{mode} with the defaults: {elapsed:.1f} s: {excinfo.value}")
        assert elapsed < 20, elapsed
        assert "'openai'" in str(excinfo.value)
    finally:
        server.close()


@pytest.mark.parametrize("mode", ["down", "silent", "500"])
def test_doctor_reports_a_failing_endpoint_within_seconds(openai_env, fault_components, mode):
    server = None if mode == "down" else FaultServer(mode)
    try:
        base_url = server.base_url if server else f"http://127.0.0.1:{free_port()}/v1"
        openai_env.setenv("OPENAI_BASE_URL", base_url)
        started = time.perf_counter()
        checks = {c.name: c for c in collect_checks(fault_components)}
        check = checks["API model (openai)"]
        print(f"{mode}: {check.detail}")
        assert not check.ok and not check.essential
        assert base_url in check.detail and "\n" not in check.detail
        assert time.perf_counter() - started < 30  # all checks, the probe within its timeouts
    finally:
        if server:
            server.close()
