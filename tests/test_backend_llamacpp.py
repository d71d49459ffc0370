"""The local ``llamacpp`` backend with real GGUF models: the packaged Qwen (assembled once and
verified) answers a Chinese question in Chinese with citations; a missing, truncated or non-GGUF
model file is a clear error while the rest keeps working (reliability 13); the prompt always fits
the context window (reliability 8); concurrent chats share one model, one generation at a time
(reliability 14); the default backend and `doctor`.

SmolLM2-135M runs the plumbing tests (fast; its Chinese is nonsense), Qwen the answer test.
"""

from __future__ import annotations

import gc
import itertools
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

pytest.register_assert_rewrite("llm_support")

from llm_support import (  # noqa: E402
    ROOT,
    make_components,
    record_generations,
)

from assistant.api import Assistant  # noqa: E402
from assistant.backends import available_backends, default_backend  # noqa: E402
from assistant.backends.packaged_models import (  # noqa: E402
    QWEN_FILE,
    QWEN_SHA256,
    QWEN_SIZE,
    assemble,
    packaged_qwen_path,
    sha256_of,
)
from assistant.citations import cited_numbers  # noqa: E402
from assistant.doctor import collect_checks  # noqa: E402
from assistant.errors import InvalidQuestionError, ModelUnavailableError  # noqa: E402

pytest_plugins = ["llm_support"]
pytestmark = pytest.mark.llm

CJK = re.compile(r"[\u4e00-\u9fff]")
LATIN = re.compile(r"[A-Za-z]")


# -- the packaged Qwen: assembled once, verified ----------------------------------------------------
@pytest.fixture(scope="session")
def qwen_assembly(llm_data_dir):
    """The first call in a fresh data directory assembles the model; (path, seconds, existed)."""
    target = llm_data_dir / "models" / QWEN_FILE
    existed = target.exists()
    started = time.perf_counter()
    path = packaged_qwen_path(llm_data_dir)
    return path, time.perf_counter() - started, existed


def test_packaged_qwen_is_assembled_once_and_verified(qwen_assembly, llm_data_dir, monkeypatch):
    from assistant.backends import packaged_models

    path, seconds, existed = qwen_assembly
    assert not existed and path == llm_data_dir / "models" / QWEN_FILE
    assert path.stat().st_size == QWEN_SIZE and sha256_of(path) == QWEN_SHA256
    assert not list(path.parent.glob(".qwen-*.part")), "a temporary file was left behind"
    before = path.stat()
    hashed = []
    real_sha256_of = packaged_models.sha256_of
    monkeypatch.setattr(
        packaged_models, "sha256_of", lambda p: hashed.append(p) or real_sha256_of(p)
    )
    assert packaged_qwen_path(llm_data_dir) == path
    after = path.stat()
    # Not assembled or hashed again: the same file, and no second pass over its 491 MB (a count,
    # not a time limit, so a busy machine cannot fail it).
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    assert hashed == []
    print(f"assembly + sha256 {seconds:.1f} s")


def test_the_hash_verified_model_skips_the_header_walk_until_it_changes(qwen_assembly, tmp_path):
    """The packaged model, proven by its sha256, is not walked again by check_gguf; a copy whose
    time stamp changed is walked (and a cut-short one refused)."""
    from assistant.backends import gguf_check

    path, _, _ = qwen_assembly
    gguf_check._check.cache_clear()
    packaged_qwen_path(path.parent.parent)
    gguf_check.check_gguf(path)
    assert gguf_check._check.cache_info().misses == 0
    copy = tmp_path / QWEN_FILE
    os.link(path, copy)  # same bytes, no 491 MB copy; another path is not trusted
    gguf_check.check_gguf(copy)
    assert gguf_check._check.cache_info().misses == 1
    short = tmp_path / "short.gguf"
    with path.open("rb") as src, short.open("wb") as out:
        out.write(src.read(QWEN_SIZE // 3))
    with pytest.raises(ModelUnavailableError, match="truncated"):
        gguf_check.check_gguf(short)


@pytest.mark.parametrize("damage", ["tampered", "truncated"])
def test_a_damaged_copy_is_never_used(qwen_assembly, tmp_path, damage):
    """A copy in another data directory (never the real one) that was edited in place, keeping
    its size and time stamp, or cut short, is not used: it is assembled again from the parts."""
    source, _, _ = qwen_assembly
    models = tmp_path / "models"
    models.mkdir()
    copy = models / QWEN_FILE
    stamp = source.with_name(f".{source.name}.verified")
    shutil.copy2(stamp, models / stamp.name)  # even with the original's stamp beside it
    if damage == "tampered":
        shutil.copy2(source, copy)
        stat = copy.stat()
        with copy.open("r+b") as handle:
            handle.seek(QWEN_SIZE // 2)
            byte = handle.read(1)
            handle.seek(QWEN_SIZE // 2)
            handle.write(bytes([byte[0] ^ 0xFF]))
        os.utime(copy, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    else:
        with source.open("rb") as src, copy.open("wb") as out:
            out.write(src.read(QWEN_SIZE // 3))
    assert sha256_of(copy) != QWEN_SHA256
    path = packaged_qwen_path(tmp_path)
    assert path == copy and path.stat().st_size == QWEN_SIZE
    assert sha256_of(path) == QWEN_SHA256
    path.unlink()  # 491 MB: pytest keeps the temporary directories of recent runs


def test_assembly_from_wrong_parts_is_refused_and_leaves_nothing(tmp_path):
    parts = []
    for n in range(3):
        part = tmp_path / f"part{n:02d}.bin"
        part.write_bytes(bytes([n]) * 1000)
        parts.append(part)
    target = tmp_path / "models" / QWEN_FILE
    with pytest.raises(ModelUnavailableError, match="does not match its published sha256"):
        assemble(parts, target, QWEN_SHA256)
    assert not target.exists() and not list(target.parent.iterdir())


# -- the Chinese answer, end to end --------------------------------------------------------------
def test_qwen_answers_a_chinese_question_in_chinese_with_citations(
    qwen_assembly, llm_data_dir, llm_embeddings, clean_env
):
    components = make_components(
        llm_data_dir, llm_embeddings, llm="llamacpp", max_answer_tokens=128
    )
    assistant = Assistant(components=components)
    stream = assistant.stream("计算机视觉有哪些应用场景？")
    started = time.perf_counter()
    pieces, first = [], None
    for piece in stream:
        first = first if first is not None else time.perf_counter() - started
        pieces.append(piece)
    answer = stream.answer
    print(f"first piece after {first:.1f} s, {len(pieces)} pieces: {answer.text!r}")
    assert answer.backend == "llamacpp" and not answer.from_faq and not answer.abstained
    assert len(pieces) >= 3, pieces  # streamed, not delivered in one block
    assert "".join(pieces).strip() == answer.text
    # In Chinese.
    assert len(CJK.findall(answer.text)) > 2 * len(LATIN.findall(answer.text)), answer.text
    # The key phrase, from the right section.
    assert "自动驾驶" in answer.text, answer.text
    numbers = cited_numbers(answer.text)
    assert numbers and all(1 <= n <= len(answer.sources) for n in numbers), answer.text
    cited = {answer.sources[n - 1].section for n in numbers}
    assert any("6.2 计算机视觉应用场景" in s for s in cited), cited
    assert any("自动驾驶" in answer.sources[n - 1].text for n in numbers)
    # The sources are exactly the passages the model saw (at most context_passages of them).
    assert 1 <= len(answer.sources) <= components.settings.context_passages


# -- a broken model file (reliability 13) --------------------------------------------------------
@pytest.fixture(params=["missing", "truncated", "not-gguf"])
def broken_model(request, tmp_path, smollm_path) -> tuple[str, Path]:
    path = tmp_path / "models" / f"{request.param}.gguf"
    path.parent.mkdir()
    if request.param == "truncated":
        with smollm_path.open("rb") as handle:
            path.write_bytes(handle.read(2 * 1024 * 1024))  # header intact, weights cut off
    elif request.param == "not-gguf":
        path.write_text("<html>404 Not Found</html>\n" * 100_000, encoding="utf-8")
    return request.param, path


def test_broken_model_file_is_a_clear_error_and_the_rest_works(
    broken_model, llm_data_dir, llm_embeddings, clean_env
):
    kind, path = broken_model
    clean_env.setenv("ASSISTANT_LLM_MODEL_PATH", str(path))
    components = make_components(llm_data_dir, llm_embeddings)
    assert components.settings.llm_model_path == path
    assistant = Assistant(components=components)

    stream = assistant.stream("深度学习有哪些基础算法？", llm="llamacpp")
    started = time.perf_counter()
    with pytest.raises(ModelUnavailableError) as excinfo:
        list(stream)
    message = str(excinfo.value)
    print(f"{kind}: {message}")
    assert time.perf_counter() - started < 5
    # Refused at start: no retrieval (which publishes an Answer) and no model call.
    assert stream.answer is None
    expected = {"missing": "does not exist", "truncated": "truncated", "not-gguf": "not a GGUF"}
    assert expected[kind] in message and path.name in message
    assert "ASSISTANT_LLM_MODEL_PATH" in message
    assert "\n" not in message and message.count(". ") == 0 and message.endswith(".")
    assert str(path.parent) not in message  # no server path, no traceback

    # The rest works: not offered as the default, extractive answers, doctor says why.
    assert "llamacpp" not in available_backends(components.settings)
    assert default_backend(components.settings) == "extractive"
    answer = assistant.ask("深度学习有哪些基础算法？")
    assert answer.backend == "extractive" and "反向传播" in answer.text
    checks = {c.name: c for c in collect_checks(components)}
    local = checks["local model (llamacpp)"]
    assert not local.ok and not local.essential and local.detail == message
    assert checks["answering backend"].ok and "'extractive'" in checks["answering backend"].detail


def test_cli_reports_a_missing_model_in_one_line(llm_data_dir, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ASSISTANT_", "OPENAI_"))}
    env |= {
        "ASSISTANT_DATA_DIR": str(llm_data_dir),
        "ASSISTANT_LLM_MODEL_PATH": str(tmp_path / "nowhere.gguf"),
    }
    result = subprocess.run(
        [sys.executable, "-m", "assistant", "ask", "深度学习有哪些基础算法？", "--llm", "llamacpp"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 1, result
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "nowhere.gguf does not exist" in lines[0], result.stderr
    assert "Traceback" not in result.stderr and not result.stdout.strip()


def test_gguf_check_accepts_the_real_models(qwen_assembly, smollm_path):
    from assistant.backends.gguf_check import check_gguf

    for path in (qwen_assembly[0], smollm_path):
        check_gguf(path)  # the tensor table ends exactly at the end of a complete file


# -- the prompt always fits (reliability 8) -------------------------------------------------------
N_CTX = 1024


@pytest.fixture(scope="module")
def tight_smollm(llm_data_dir, llm_embeddings, smollm_path):
    """An Assistant on SmolLM2 with a 1024-token window, and the recorder of its generations."""
    components = make_components(
        llm_data_dir,
        llm_embeddings,
        llm="llamacpp",
        llm_model_path=smollm_path,
        llm_context_tokens=N_CTX,
        max_answer_tokens=48,
        context_passages=20,
        top_k=20,
        relevance_threshold=0.0,  # every retrieved passage counts as evidence
    )
    assistant = Assistant(components=components)
    backend = assistant.backend()
    return assistant, backend, record_generations(backend)


def _huge_passages(count: int):
    from index.passage import Passage

    zh = "深度学习是AI大模型的核心技术，它通过多层神经网络来学习和处理数据。" * 60
    code = "def forward(x):\n    return torch.relu(self.linear(x))  # GPU kernel\n" * 40
    return [
        Passage(f"id{n}", "huge.md", f"3.{n} 节 > 超长段落", zh + code, 0.9, 0.9, 0.9)
        for n in range(1, count + 1)
    ]


LONG_EN = (
    "I have been reading about large models for a while and I would like a careful explanation. "
    * 21
)[:1900] + " Which basic algorithms does deep learning use?"


@pytest.mark.parametrize(
    "question",
    ["深度学习的基本算法有哪些？", LONG_EN, "深度学习 deep learning 🤖 算法？" * 20],
    ids=["short-zh", "long-en", "mixed-emoji"],
)
def test_prompt_fits_the_window_with_a_long_question_and_huge_passages(tight_smollm, question):
    assistant, backend, recorder = tight_smollm
    assert len(question) <= assistant.settings.max_question_chars
    passages = _huge_passages(12)
    chosen = backend.select_evidence(question, passages, "zh")
    assert chosen and [e.passage for e in chosen] == passages[: len(chosen)]
    done = len(recorder.messages)
    text = "".join(backend.stream_answer(question, chosen, "zh"))
    assert text.strip(), "generation failed"
    messages = recorder.messages[done]
    user = messages[1]["content"]
    assert question in user
    numbered = re.findall(r"^\[(\d+)\]\n<passage>", user, flags=re.MULTILINE)
    assert [int(n) for n in numbered] == list(range(1, len(chosen) + 1))
    prompt = recorder.prompt_tokens(messages)  # the model's own template and tokenizer
    limit = N_CTX - assistant.settings.max_answer_tokens
    print(f"{len(question)} chars: prompt {prompt} tokens of {limit}, {len(chosen)} passage(s)")
    assert prompt <= limit
    assert prompt > 0.6 * limit  # the window is used, not left empty


def test_many_retrieved_passages_fit_through_the_assistant(tight_smollm):
    assistant, _, recorder = tight_smollm
    done = len(recorder.messages)
    answer = assistant.ask("深度学习有哪些基础算法？计算机视觉和自然语言处理呢？")
    assert answer.backend == "llamacpp" and answer.text
    assert len(recorder.messages) == done + 1
    prompt = recorder.prompt_tokens(recorder.messages[-1])
    assert prompt + assistant.settings.max_answer_tokens <= N_CTX
    numbers = cited_numbers(answer.text)
    assert all(1 <= n <= len(answer.sources) for n in numbers)


def test_rewrite_prompt_with_a_long_history_fits_the_window(tight_smollm):
    """Eight earlier turns near the length limit: the follow-up rewrite keeps the most recent
    turns that fit (one too long alone is cut to its end), and every prompt plus its answer stays
    inside the window."""
    assistant, _, recorder = tight_smollm
    turn = ("深度学习的基本算法有哪些？请详细说明前向传播和反向传播。" * 70)[:1900]
    history = [f"{n}: {turn}" for n in range(8)]
    done = len(recorder.messages)
    answer = assistant.ask("还有呢？", history=history)  # no heuristic rewrite: the model is asked
    assert answer.text
    assert len(recorder.messages) >= done + 1
    rewrite = recorder.messages[done]
    content = rewrite[-1]["content"]
    assert (
        "还有呢？" in content and turn[-40:] in content
    )  # the latest turn's end, nearest the question
    assert recorder.prompt_tokens(rewrite) + 64 <= N_CTX
    for messages in recorder.messages[done:]:
        assert recorder.prompt_tokens(messages) + assistant.settings.max_answer_tokens <= N_CTX


def test_question_too_long_for_the_window_is_refused_before_the_model(tight_smollm):
    assistant, _, recorder = tight_smollm
    question = "深度学习的基本算法有哪些？" * 150  # under max_question_chars, over 1024 tokens
    assert len(question) <= assistant.settings.max_question_chars
    done = len(recorder.messages)
    with pytest.raises(InvalidQuestionError, match=f"context window of {N_CTX} tokens"):
        assistant.ask(question)
    assert len(recorder.messages) == done  # no model call
    assert assistant.ask("深度学习有哪些基础算法？", llm="extractive").text


# -- several chats on one local model (reliability 14) -------------------------------------------
def _small_model_assistant(data_dir, embeddings, smollm_path, *, max_answer_tokens):
    """An Assistant on SmolLM with one short passage, and a recorder of its generations."""
    components = make_components(
        data_dir,
        embeddings,
        llm="llamacpp",
        llm_model_path=smollm_path,
        llm_context_tokens=768,
        max_answer_tokens=max_answer_tokens,
        context_passages=1,
    )
    assistant = Assistant(components=components)
    return assistant, record_generations(assistant.backend())


def test_concurrent_chats_share_the_model_one_generation_at_a_time(
    llm_data_dir, llm_embeddings, smollm_path
):
    assistant, recorder = _small_model_assistant(
        llm_data_dir, llm_embeddings, smollm_path, max_answer_tokens=16
    )
    questions = [
        "深度学习有哪些基础算法？",
        "PyTorch是谁开发的？",
        "计算机视觉有哪些应用场景？",
        "自然语言处理的数学模型包括什么？",
    ]
    results: dict[str, object] = {}
    barrier = threading.Barrier(len(questions))

    def chat(question: str) -> None:
        barrier.wait()
        try:
            results[question] = assistant.ask(question)
        except Exception as exc:  # recorded, asserted below
            results[question] = exc

    threads = [threading.Thread(target=chat, args=(q,)) for q in questions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=500)
    assert not any(thread.is_alive() for thread in threads), "a chat hung"
    for question in questions:
        answer = results[question]
        assert not isinstance(answer, Exception), (question, answer)
        assert answer.backend == "llamacpp" and answer.text and not answer.from_faq
    intervals = sorted(recorder.intervals)
    assert len(intervals) == len(questions)
    for (_, end), (start, _) in itertools.pairwise(intervals):
        assert start >= end, f"two generations overlapped: {intervals}"


def test_an_abandoned_stream_frees_the_model(llm_data_dir, llm_embeddings, smollm_path):
    """A chat closed in the middle of its answer (a browser tab closed, a stop button) must not
    keep the model's lock: the next chat gets the model."""
    assistant, recorder = _small_model_assistant(
        llm_data_dir, llm_embeddings, smollm_path, max_answer_tokens=64
    )
    pieces = iter(assistant.stream("深度学习有哪些基础算法？"))
    assert next(pieces)  # generating now: the lock is held
    del pieces
    gc.collect()
    result: dict[str, object] = {}
    thread = threading.Thread(
        target=lambda: result.setdefault("answer", assistant.ask("PyTorch是谁开发的？"))
    )
    thread.start()
    thread.join(timeout=300)
    assert not thread.is_alive(), "the abandoned stream kept the model locked"
    assert result["answer"].text and len(recorder.intervals) == 2


# -- default backend and doctor -----------------------------------------------------------------
def test_default_backend_is_the_packaged_model_and_doctor_says_ok(
    qwen_assembly, llm_data_dir, llm_embeddings, clean_env
):
    components = make_components(llm_data_dir, llm_embeddings)
    settings = components.settings
    assert settings.llm is None and settings.llm_model_path is None
    assert available_backends(settings) == ["llamacpp", "extractive"]
    assert default_backend(settings) == "llamacpp"
    assert Assistant(components=components).backend_name == "llamacpp"
    checks = {c.name: c for c in collect_checks(components)}
    assert checks["local model (llamacpp)"].ok, checks["local model (llamacpp)"].detail
    local = checks["local model (llamacpp)"]
    assert str(qwen_assembly[0]) in local.detail and local.essential  # it is what answers
    assert "generated" in local.detail and "separate process" in local.detail  # proven, not assumed
    assert "'llamacpp'" in checks["answering backend"].detail
    assert not checks["API model (openai)"].ok  # not configured: reported, not essential
    clean_env.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    assert available_backends(settings) == ["llamacpp", "extractive", "openai"]


def test_model_load_primes_the_system_prompt_into_the_kv_cache(smollm_path):
    from assistant.backends.base import ChatBackend
    from assistant.backends.llamacpp_chat import LlamaCppChatModel

    system = ChatBackend.system_prompt("zh")
    primed = LlamaCppChatModel(model_path=str(smollm_path), n_ctx=2048, prime_system_prompt=system)
    plain = LlamaCppChatModel(model_path=str(smollm_path), n_ctx=2048)
    try:
        # The cache holds at least the whole system prompt; prefix reuse then skips it next time.
        assert primed.load()["primed_tokens"] >= primed.count_tokens(system)
        assert plain.load()["primed_tokens"] == 0
    finally:
        primed.close()
        plain.close()


# -- the primed system prompt, kept between processes ---------------------------------------------
def _primed_model(smollm_path, state_dir):
    from assistant.backends.base import ChatBackend
    from assistant.backends.llamacpp_chat import LlamaCppChatModel

    return LlamaCppChatModel(
        model_path=str(smollm_path),
        n_ctx=2048,
        temperature=0.0,
        max_tokens=12,
        prime_system_prompt=ChatBackend.system_prompt("zh"),
        prime_state_dir=str(state_dir),
    )


def _greedy_answer(model) -> str:
    from langchain_core.messages import HumanMessage, SystemMessage

    from assistant.backends.base import ChatBackend

    messages = [
        SystemMessage(ChatBackend.system_prompt("zh")),
        HumanMessage(
            "[1] PyTorch：一个开源的深度学习框架，由Facebook开发。\n\n问题：PyTorch是谁开发的？"
        ),
    ]
    return model.invoke(messages).content


def test_the_primed_state_is_saved_and_a_new_model_restores_it(smollm_path, tmp_path):
    state_dir = tmp_path / "prompt_state"
    first = _primed_model(smollm_path, state_dir)
    computed = first.load()
    assert not computed["restored"]
    saved = list(state_dir.glob("*.npz"))
    assert len(saved) == 1 and saved[0].stat().st_size > 10_000
    assert not list(state_dir.glob(".*.tmp"))  # written by rename, nothing left behind

    second = _primed_model(smollm_path, state_dir)  # a new worker process, as in a new command
    restored = second.load()
    assert restored["restored"] and restored["pid"] != computed["pid"]
    assert restored["primed_tokens"] == computed["primed_tokens"]
    # The restored cache is the computed one: greedy answers agree token for token.
    assert _greedy_answer(second) == _greedy_answer(first)


def test_a_damaged_or_unwritable_prompt_state_only_costs_time(smollm_path, tmp_path):
    state_dir = tmp_path / "prompt_state"
    reference = _primed_model(smollm_path, state_dir)
    expected = _greedy_answer(reference)
    (saved,) = state_dir.glob("*.npz")
    saved.write_bytes(b"PK\x03\x04 not really a state")
    damaged = _primed_model(smollm_path, state_dir)
    assert _greedy_answer(damaged) == expected
    assert saved.stat().st_size > 10_000  # computed again and rewritten

    blocked = tmp_path / "not-a-dir"
    blocked.write_text("a file where the state folder would go")
    unwritable = _primed_model(smollm_path, blocked / "prompt_state")
    assert _greedy_answer(unwritable) == expected
    assert blocked.read_text() == "a file where the state folder would go"


def test_the_state_is_keyed_by_prompt_and_model_file(smollm_path, tmp_path):
    from assistant.local_model.prompt_state import state_file

    base = state_file(tmp_path, smollm_path, 2048, "system prompt")
    assert state_file(tmp_path, smollm_path, 2048, "system prompt") == base
    assert state_file(tmp_path, smollm_path, 2048, "another prompt") != base
    assert state_file(tmp_path, smollm_path, 4096, "system prompt") != base
    copy = tmp_path / "copy.gguf"
    shutil.copyfile(smollm_path, copy)
    assert state_file(tmp_path, copy, 2048, "system prompt") != base


def test_asking_starts_loading_the_model_before_retrieval(
    llm_data_dir, llm_embeddings, smollm_path, monkeypatch
):
    """The model load overlaps retrieval: it has begun by the time the passages are searched."""
    assistant = Assistant(
        components=make_components(llm_data_dir, llm_embeddings, llm="llamacpp"),
        llm_model_path=smollm_path,
    )
    model = assistant.backend().model
    seen = {}
    searcher_type = type(assistant._searcher())
    real_search = searcher_type.search

    def search(self, query, k):
        seen["loading or loaded"] = model.loading_or_loaded
        return real_search(self, query, k)

    monkeypatch.setattr(searcher_type, "search", search)
    assistant.ask("PyTorch是谁开发的？")
    assert seen == {"loading or loaded": True}
