"""Any OpenAI-compatible chat endpoint (OpenAI, vLLM, Ollama, llama.cpp server, DeepSeek…).

The openai client's defaults (600 s timeout, 2 retries) would hold a chat for many minutes when a
server hangs; here the connect timeout, the first-token, token-gap and whole-answer bounds
(``stream_bounds.py``) and the retries come from the settings. The
client also honours a server's ``Retry-After`` of up to two minutes before each retry: a longer
wait than ``MAX_RETRY_WAIT_S`` is not retried, the rate limit is reported at once instead.
"""

from __future__ import annotations

from assistant.errors import ModelUnavailableError
from assistant.settings import Settings

MAX_RETRY_WAIT_S = 2.0


def _retry_after_seconds(headers) -> float | None:
    for name, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        value = headers.get(name)
        if value is not None:
            try:
                return float(value) * scale
            except ValueError:
                return None  # an HTTP date: treat as long
    return 0.0


def _no_long_waits(response) -> None:
    """httpx2 response hook: a rate limit that asks for a long wait fails now (no retry)."""
    if response.status_code in (429, 503):
        wait = _retry_after_seconds(response.headers)
        if wait is None or wait > MAX_RETRY_WAIT_S:
            response.headers["x-should-retry"] = "false"


def build_openai_chat(settings: Settings, *, streaming: bool = True):
    import httpx2
    from langchain_openai import ChatOpenAI

    key = Settings.openai_api_key()
    base_url = Settings.openai_base_url()
    if key is None and base_url is None:
        raise ModelUnavailableError(
            "The 'openai' backend needs OPENAI_API_KEY (and OPENAI_BASE_URL for another compatible server)."
        )
    from .stream_bounds import BoundedStreamTransport

    # The read timeout is the first-token bound: a server that accepts and never answers is
    # an error within it (per attempt); the transport bounds what a read timeout cannot.
    timeout = httpx2.Timeout(settings.api_first_token_timeout_s, connect=settings.connect_timeout_s)
    transport = BoundedStreamTransport(
        httpx2.HTTPTransport(),
        first_data_s=settings.api_first_token_timeout_s,
        gap_s=settings.api_token_gap_timeout_s,
        total_s=settings.api_answer_timeout_s,
    )
    http_client = httpx2.Client(
        timeout=timeout, transport=transport, event_hooks={"response": [_no_long_waits]}
    )
    # LangChain sends the newer ``max_completion_tokens`` only; compatible servers (llama.cpp,
    # vLLM, Ollama) read ``max_tokens``, and without it the answer length would be unbounded.
    extra_body = {"max_tokens": settings.max_answer_tokens} if base_url else None
    return ChatOpenAI(
        model=settings.openai_model,
        api_key=key or "not-needed",  # local servers accept any key
        base_url=base_url,
        timeout=timeout,
        max_retries=settings.max_retries,
        temperature=settings.temperature,
        max_tokens=settings.max_answer_tokens,
        streaming=streaming,
        http_client=http_client,
        extra_body=extra_body,
    )
