"""Local LLM speed (issue: answering): the packaged Qwen2.5-Coder-0.5B on 2 threads, in its own
worker process as the app runs it: model load, time to first token and tokens/s on a short
Chinese RAG prompt (median of 3), and `ask` with the `llamacpp` backend end to end, warm
in-process and cold as a new command.

Goals: first token < 1.5 s, >= 20 tokens/s. Figures only: the machine is shared, so they move
with its load (printed alongside); the best run shows what the model does on free cores.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import time

from langchain_core.messages import HumanMessage, SystemMessage

from assistant.abstention import ABSTAIN
from assistant.api import Assistant
from assistant.backends.base import LANGUAGE_NAMES, ChatBackend
from assistant.backends.llamacpp_chat import LlamaCppChatModel
from assistant.backends.packaged_models import packaged_qwen_path
from assistant.components import Components
from assistant.prompts import load_prompt
from assistant.settings import SOURCE_ROOT, Settings

from .common import fresh_dir, row, timed

THREADS = 2
# Short Chinese RAG prompts: (numbered passage, question).
PROMPTS = [
    (
        "[1] 6. 实际应用场景 > 6.2 计算机视觉应用场景\n计算机视觉的应用场景包括：\n"
        "- 对象识别\n- 图像分类\n- 图像生成\n- 视频分析\n- 自动驾驶",
        "计算机视觉有哪些应用场景？",
    ),
    (
        "[1] 7. 工具和资源推荐 > 7.1 深度学习工具\n- TensorFlow：一个开源的深度学习框架，由Google开发。"
        "\n- PyTorch：一个开源的深度学习框架，由Facebook开发。",
        "PyTorch是谁开发的？",
    ),
    (
        "[1] 5. 具体最佳实践 > 5.2 BERT示例\nBERT是一种预训练的Transformer模型，可以用于文本分类、"
        "命名实体识别等自然语言处理任务。",
        "BERT能做哪些任务？",
    ),
]
ASK_QUESTIONS = ["PyTorch是谁开发的？", "BERT能做哪些任务？", "深度学习的数学模型包含哪些内容？"]


def _messages(passage: str, question: str) -> list:
    system = ChatBackend.system_prompt("zh")
    user = load_prompt("answer_user").format(
        passages=passage, question=question, language_name=LANGUAGE_NAMES["zh"]
    )
    assert ABSTAIN["zh"] in system
    return [SystemMessage(system), HumanMessage(user)]


def _model(path, *, primed_in=None) -> LlamaCppChatModel:
    """A chat model with a new worker process; ``primed_in``: the folder of the saved
    system-prompt state (primed as the app does), else nothing primed."""
    return LlamaCppChatModel(
        model_path=str(path),
        n_ctx=4096,
        n_threads=THREADS,
        max_tokens=64,
        temperature=0.0,
        prime_system_prompt=ChatBackend.system_prompt("zh") if primed_in else "",
        prime_state_dir=str(primed_in or ""),
    )


def _one_run(model: LlamaCppChatModel, messages: list) -> tuple[float, float, int, str]:
    """(seconds to first token, decode tokens/s, tokens generated, text), through the chat
    model's public streaming interface. llama.cpp reuses the prompt prefix it already holds (the
    system prompt after priming or an earlier chat), as between two questions in the app."""
    started = time.perf_counter()
    first = None
    parts = []
    for chunk in model.stream(messages):
        if chunk.content:
            first = first if first is not None else time.perf_counter()
            parts.append(chunk.content)
    ended = time.perf_counter()
    text = "".join(parts)
    tokens = model.count_tokens(text)
    decode = (tokens - 1) / (ended - first) if first and tokens > 1 and ended > first else 0.0
    return (first or ended) - started, decode, tokens, text


def main() -> None:
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(
        f"Local LLM, packaged Qwen2.5-Coder-0.5B, {THREADS} threads (shared machine; load {load})"
    )
    data_dir = fresh_dir("bench-llm-")
    try:
        _run(data_dir)
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)  # 470 MB: the assembled model and the index


def _run(data_dir) -> None:
    seconds, path = timed(lambda: packaged_qwen_path(data_dir))
    row("assemble + verify the packaged GGUF (first run only)", f"{seconds:.1f} s")
    again, _ = timed(lambda: packaged_qwen_path(data_dir))
    row("find the verified GGUF again", f"{again * 1000:.1f} ms")

    loads = []
    for _ in range(3):
        model = _model(path)
        seconds, _ = timed(model.load)  # a new process: start, import llama.cpp, load
        loads.append(seconds)
        model.close()
    row("model load in a new worker process: median of 3", f"{statistics.median(loads):.2f} s")

    prompts = [_messages(passage, question) for passage, question in PROMPTS]
    cold = []
    for messages in prompts:  # nothing of the prompt in the KV cache: a model never primed
        model = _model(path)
        model.load()
        cold.append(_one_run(model, messages))
        model.close()
    state_dir = data_dir / "models" / "prompt_state"
    primed, restores, warm = [], [], []
    for n, messages in enumerate(prompts):
        # A new worker each time, as in a new process: the first load computes and saves the
        # system prompt's state, later loads restore it.
        model = _model(path, primed_in=state_dir)
        seconds, info = timed(model.load)
        if n:
            restores.append(seconds)
            assert info["restored"], info
        primed.append(_one_run(model, messages))
        warm.append(_one_run(model, prompts[(n + 1) % len(prompts)]))
        model.close()
    row(
        "first token, ~250-token prompt, nothing cached: median (best) of 3",
        f"{statistics.median(r[0] for r in cold):.2f} ({min(r[0] for r in cold):.2f}) s",
        "goal < 1.5 s",
    )
    row(
        "model load + saved system-prompt state restored: median of 2",
        f"{statistics.median(restores):.2f} s",
        "(computing it instead: ~1.8 s)",
    )
    row(
        "first token of the first question after load (primed)",
        f"{statistics.median(r[0] for r in primed):.2f} ({min(r[0] for r in primed):.2f}) s",
        "goal < 1.5 s",
    )
    row(
        "first token, system prompt cached (next chat): median (best)",
        f"{statistics.median(r[0] for r in warm):.2f} ({min(r[0] for r in warm):.2f}) s",
        "goal < 1.5 s",
    )
    runs = cold + primed + warm
    row(
        "decode speed: median (best) of 9",
        f"{statistics.median(r[1] for r in runs):.1f} ({max(r[1] for r in runs):.1f}) tok/s",
        "goal >= 20 tok/s",
    )
    for run in warm:
        print(f"  answer: {run[3]!r}")

    components = Components(Settings(data_dir=data_dir, llm="llamacpp"))
    components.indexer().index_paths([SOURCE_ROOT / "corpus"])
    assistant = Assistant(components=components)
    question = PROMPTS[0][1]
    seconds, answer = timed(lambda: assistant.ask(question))
    row("`ask` in process, first (loads the model)", f"{seconds:.1f} s")
    totals, firsts = [], []
    for asked in ASK_QUESTIONS:
        started = time.perf_counter()
        first = None
        for _ in assistant.stream(asked):
            first = first if first is not None else time.perf_counter() - started
        totals.append(time.perf_counter() - started)
        firsts.append(first or totals[-1])
    row(
        "`ask` in process, warm: median total / first piece",
        f"{statistics.median(totals):.1f} / {statistics.median(firsts):.1f} s",
    )
    print(f"  answer: {answer.text!r}")

    env = {**os.environ, "ASSISTANT_DATA_DIR": str(data_dir), "ASSISTANT_LLM": "llamacpp"}
    env.pop("ASSISTANT_LLM_MODEL_PATH", None)
    colds, statuses = [], set()
    for asked in ASK_QUESTIONS:
        started = time.perf_counter()
        result = subprocess.run(
            [sys.executable, "-m", "assistant", "ask", asked],
            env=env,
            capture_output=True,
            text=True,
        )
        colds.append(time.perf_counter() - started)
        statuses.add(result.returncode)
    row(
        "cold `ask` command (new process, llamacpp): median (each)",
        f"{statistics.median(colds):.1f} s ({', '.join(f'{c:.1f}' for c in colds)})",
        "goal < 8 s" + ("" if statuses == {0} else f" (exit codes {sorted(statuses)})"),
    )


if __name__ == "__main__":
    main()
