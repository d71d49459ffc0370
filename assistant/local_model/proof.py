"""Proof that the local model runs here: load it in a fresh worker and generate a few tokens,
within a time limit. ``doctor`` reports this instead of only checking the file, because a build
of llama.cpp that cannot run on this CPU loads fine and crashes on its first decode."""

from __future__ import annotations

import time

from assistant.errors import AssistantError, ModelCrashedError

from .process import Limits, ModelProcess, WorkerConfig

PROOF_LIMITS = Limits(load_s=60.0, first_token_s=60.0, token_gap_s=30.0, answer_s=90.0)
PROOF_MESSAGES = [{"role": "user", "content": "用一句话介绍深度学习。"}]


def prove_model(model_path: str, *, n_threads: int = 2, tokens: int = 8) -> str:
    """A sentence saying how the model did; raises AssistantError saying how it failed (a crash
    with its signal, the likely cause and the fix; a hang; no output)."""
    process = ModelProcess(
        WorkerConfig(model_path=model_path, n_ctx=512, n_threads=n_threads),
        PROOF_LIMITS,
        restart=False,
    )
    try:
        info = process.wait_ready()
        started = time.perf_counter()
        pieces = list(process.chat(PROOF_MESSAGES, {"max_tokens": tokens, "temperature": 0.0}))
        seconds = time.perf_counter() - started
    except ModelCrashedError as exc:
        if exc.exit is None:  # it hung
            raise AssistantError(
                f"The local model gave no tokens within {PROOF_LIMITS.first_token_s:g} s; check "
                "that the machine is not overloaded, or set ASSISTANT_LLM_MODEL_PATH to a smaller "
                "GGUF file."
            ) from None
        said = process.last_stderr()
        native = f" (llama.cpp's last words: {said[-1][:160]})" if said else ""
        if "crashed" in exc.exit:
            cause = (
                "the usual cause is a llama.cpp build that uses CPU instructions this machine "
                "cannot run (such as AMX): rebuild it with `make install`, which builds it with "
                "portable flags"
            )
        else:
            cause = "check that the machine has enough free memory for the model"
        raise AssistantError(
            f"The local model {exc.exit} while loading and generating its first tokens{native}; {cause}."
        ) from None
    finally:
        process.close()
    if not "".join(pieces).strip():
        raise AssistantError(
            "The local model loaded but generated nothing; set ASSISTANT_LLM_MODEL_PATH to another "
            "GGUF file."
        )
    return (
        f"loaded in {info['load_s']:.1f} s and generated {len(pieces)} tokens in {seconds:.1f} s "
        f"in a separate process (llama-cpp-python {info['llama_cpp']})"
    )
