"""The local model runs in a process of its own: a native crash (SIGSEGV), a kill (SIGKILL, as
the out-of-memory killer sends) or a hang (SIGSTOP) of that process in the middle of an answer
is one clear error through the Python API and the CLI, the partial answer is marked as cut off,
the model is restarted and the next question is answered. `doctor` proves the model by
generating in a child process, and fails loudly on a build that crashes on its first decode.

The faults are real: signals sent to the real worker process, and a llama.cpp whose decode
reads address 0 (``tests/faults/crash_on_decode``). pytest itself never loads llama.cpp, so no
native crash can take it down.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil
import pytest

pytest.register_assert_rewrite("llm_support")

from llm_support import ROOT, make_components  # noqa: E402
from process_support import model_worker_of  # noqa: E402

from assistant.api import Assistant  # noqa: E402
from assistant.errors import AssistantError, ModelCrashedError  # noqa: E402
from assistant.local_model.proof import prove_model  # noqa: E402

pytest_plugins = ["llm_support"]
pytestmark = pytest.mark.llm

CRASH_ON_DECODE = Path(__file__).parent / "faults" / "crash_on_decode"
QUESTION = "深度学习有哪些基础算法？"
# Long enough that a signal sent after the first piece always lands in the middle of the answer.
LONG = {"max_answer_tokens": 384, "context_passages": 1, "llm_context_tokens": 1024}


def _one_sentence(message: str) -> None:
    assert "\n" not in message and "Traceback" not in message, message
    assert message.endswith(".") and message.count(". ") == 0, message


@pytest.fixture
def smollm_assistant(llm_data_dir, llm_embeddings, smollm_path):
    assistant = Assistant(
        components=make_components(
            llm_data_dir, llm_embeddings, llm="llamacpp", llm_model_path=smollm_path, **LONG
        )
    )
    yield assistant
    assistant.backend().model.close()


# -- the Python API ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("sig", "said"),
    [(signal.SIGSEGV, "crashed (SIGSEGV)"), (signal.SIGKILL, "was killed (SIGKILL")],
    ids=["SIGSEGV", "SIGKILL"],
)
def test_a_model_killed_mid_answer_is_a_clear_error_and_the_next_answer_works(
    smollm_assistant, sig, said
):
    model = smollm_assistant.backend().model
    first_pid = model.load()["pid"]
    stream = smollm_assistant.stream(QUESTION)
    pieces = iter(stream)
    written = next(pieces)
    os.kill(first_pid, sig)
    started = time.perf_counter()
    with pytest.raises(ModelCrashedError) as excinfo:
        for piece in pieces:
            written += piece
    message = str(excinfo.value)
    print(message)
    assert time.perf_counter() - started < 10
    assert said in message and "cut off" in message and "restarted" in message
    _one_sentence(message)
    # The partial answer is kept, marked as cut off; the passages it drew on are still shown.
    assert stream.answer is not None and stream.answer.cut_off
    assert stream.answer.text and written.startswith(stream.answer.text[:5])
    assert stream.answer.error == message and stream.answer.sources
    # A new worker was started; the next question is answered by it.
    answer = smollm_assistant.ask(QUESTION)
    assert answer.text and not answer.cut_off and answer.backend == "llamacpp"
    assert model.process.pid not in (None, first_pid) and model.process.restarts == 1
    assert psutil.Process(os.getpid()).is_running()  # and pytest was never touched


def test_a_hung_model_is_stopped_within_its_bound_and_replaced(
    llm_data_dir, llm_embeddings, smollm_path
):
    assistant = Assistant(
        components=make_components(
            llm_data_dir,
            llm_embeddings,
            llm="llamacpp",
            llm_model_path=smollm_path,
            llm_token_gap_timeout_s=2,
            llm_first_token_timeout_s=3,
            **LONG,
        )
    )
    model = assistant.backend().model
    try:
        pid = model.load()["pid"]
        pieces = iter(assistant.stream(QUESTION))
        next(pieces)
        os.kill(pid, signal.SIGSTOP)  # alive, holding the answer, saying nothing
        started = time.perf_counter()
        with pytest.raises(ModelCrashedError, match="stopped for over 2 s") as excinfo:
            list(pieces)
        waited = time.perf_counter() - started
        _one_sentence(str(excinfo.value))
        assert 1.5 < waited < 8, waited
        assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == "zombie"
        # A worker that hangs before it answers at all is bounded too.
        os.kill(model.load()["pid"], signal.SIGSTOP)
        started = time.perf_counter()
        with pytest.raises(ModelCrashedError, match=r"gave no answer within [23] s"):
            assistant.ask(QUESTION)
        assert time.perf_counter() - started < 10
        assert assistant.ask(QUESTION).text
    finally:
        model.close()


# -- doctor: generating proves the model ------------------------------------------------------
def test_the_model_generates_in_a_fresh_child_process(qwen_path):
    """The packaged model, loaded and run by a fresh worker: a build that crashes fails here,
    in that child, instead of killing pytest."""
    report = prove_model(str(qwen_path))
    print(report)
    assert "generated" in report and "separate process" in report


def test_doctor_fails_loudly_on_a_build_that_crashes(qwen_path, monkeypatch):
    monkeypatch.setenv("PYTHONPATH", str(CRASH_ON_DECODE))
    with pytest.raises(AssistantError) as excinfo:
        prove_model(str(qwen_path))
    message = str(excinfo.value)
    print(message)
    assert "crashed (SIGSEGV)" in message
    assert "CPU instructions" in message and "make install" in message
    _one_sentence(message)


def test_doctor_command_reports_the_crash_instead_of_ok(llm_data_dir, qwen_path):
    env = _cli_env(llm_data_dir) | {"PYTHONPATH": str(CRASH_ON_DECODE)}
    result = subprocess.run(
        [sys.executable, "-m", "assistant", "doctor"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    print(result.stdout)
    (line,) = [x for x in result.stdout.splitlines() if "local model (llamacpp)" in x]
    assert not line.startswith("[ok") and "crashed (SIGSEGV)" in line and "make install" in line
    assert "Traceback" not in result.stdout + result.stderr
    # The default backend is the local model, and it cannot answer: doctor fails.
    assert result.returncode == 1


@pytest.fixture(scope="module")
def qwen_path(llm_data_dir):
    from assistant.backends.packaged_models import packaged_qwen_path

    return packaged_qwen_path(llm_data_dir)


# -- the CLI ----------------------------------------------------------------------------------
def _cli_env(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ASSISTANT_", "OPENAI_"))}
    env.pop("PYTHONPATH", None)
    return env | {"ASSISTANT_DATA_DIR": str(data_dir), "PYTHONUNBUFFERED": "1"} | extra


class Output:
    """A child's stdout, read on a thread as it comes."""

    def __init__(self, stream):
        self.text = ""
        self._lock = threading.Lock()
        threading.Thread(target=self._read, args=(stream,), daemon=True).start()

    def _read(self, stream) -> None:
        for chunk in iter(lambda: stream.read(1), ""):
            with self._lock:
                self.text += chunk

    def wait_for(self, predicate, timeout: float = 180) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if predicate(self.text):
                    return self.text
            time.sleep(0.02)
        raise AssertionError(f"timed out; output so far: {self.text!r}")


def _smollm_env(data_dir, smollm_path) -> dict[str, str]:
    return _cli_env(
        data_dir,
        ASSISTANT_LLM="llamacpp",
        ASSISTANT_LLM_MODEL_PATH=str(smollm_path),
        **{f"ASSISTANT_{k.upper()}": str(v) for k, v in LONG.items()},
    )


def test_cli_ask_reports_a_crash_mid_answer_in_one_line(llm_data_dir, smollm_path):
    process = subprocess.Popen(
        [sys.executable, "-m", "assistant", "ask", QUESTION],
        cwd=ROOT, env=_smollm_env(llm_data_dir, smollm_path),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    out = Output(process.stdout)
    worker = model_worker_of(process.pid)
    out.wait_for(lambda text: len(text.strip()) >= 2)  # the answer is being written
    worker.send_signal(signal.SIGSEGV)
    code = process.wait(timeout=60)
    stderr = process.stderr.read()
    print(out.text, stderr)
    assert code == 1
    lines = [x for x in stderr.splitlines() if x.strip()]
    assert len(lines) == 1 and "crashed (SIGSEGV)" in lines[0] and "cut off" in lines[0], stderr
    assert "（回答中断 · answer cut off）" in out.text
    # The next command answers.
    again = subprocess.run(
        [sys.executable, "-m", "assistant", "ask", "PyTorch是谁开发的？"],
        cwd=ROOT, env=_smollm_env(llm_data_dir, smollm_path) | {"ASSISTANT_MAX_ANSWER_TOKENS": "16"},
        capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    assert again.returncode == 0 and again.stdout.strip(), again.stderr


def test_cli_chat_restarts_the_model_and_answers_the_next_question(llm_data_dir, smollm_path):
    process = subprocess.Popen(
        [sys.executable, "-m", "assistant", "chat"],
        cwd=ROOT, env=_smollm_env(llm_data_dir, smollm_path),
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    out = Output(process.stdout)
    try:
        out.wait_for(lambda text: "你> " in text)
        process.stdin.write(QUESTION + "\n")
        process.stdin.flush()
        worker = model_worker_of(process.pid)
        out.wait_for(
            lambda text: len(text.split("助手> ", 1)[-1].strip()) >= 2 and "助手> " in text
        )
        worker.kill()
        text = out.wait_for(lambda text: "error:" in text and text.rstrip().endswith("你>"))
        assert "was killed (SIGKILL" in text and "restarted" in text
        process.stdin.write("PyTorch是谁开发的？\n")
        process.stdin.flush()
        text = out.wait_for(
            lambda text: text.count("助手> ") == 2 and text.rstrip().endswith("你>")
        )
        second = text.rsplit("助手> ", 1)[1]
        assert "error:" not in second and second.strip(" \n你>"), text
        assert model_worker_of(process.pid).pid != worker.pid
        process.stdin.write("/quit\n")
        process.stdin.flush()
        assert process.wait(timeout=60) == 0
        assert "Traceback" not in process.stderr.read()
    finally:
        if process.poll() is None:
            process.kill()


def test_a_folder_named_assistant_where_the_app_runs_cannot_stand_in_for_the_worker(
    tmp_path, monkeypatch, smollm_path
):
    from assistant.local_model.process import ModelProcess, WorkerConfig

    fake = tmp_path / "assistant" / "local_model"
    fake.mkdir(parents=True)
    marker = tmp_path / "impostor-ran"
    (tmp_path / "assistant" / "__init__.py").write_text("")
    (fake / "__init__.py").write_text("")
    (fake / "worker.py").write_text(
        f"open({str(marker)!r}, 'w').write('ran')\nprint('{{\"ready\": {{\"pid\": 0}}}}')\n"
    )
    monkeypatch.chdir(tmp_path)
    process = ModelProcess(WorkerConfig(model_path=str(smollm_path), n_ctx=512))
    try:
        info = process.wait_ready()
        assert info["pid"] == process.pid and info["llama_cpp"]  # the real worker
        assert process.count_tokens("hello") > 0
    finally:
        process.close()
    assert not marker.exists()
