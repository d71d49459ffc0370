"""Any OpenAI-compatible chat endpoint (OpenAI, vLLM, Ollama, llama.cpp server, DeepSeek…).

The openai client's defaults (600 s timeout, 2 retries) would hold a chat for many minutes when a
server hangs; here the connect and read timeouts and the retries come from the settings.
"""

from __future__ import annotations

from assistant.errors import ModelUnavailableError
from assistant.settings import Settings


def build_openai_chat(settings: Settings, *, streaming: bool = True):
    import httpx
    from langchain_openai import ChatOpenAI

    key = Settings.openai_api_key()
    base_url = Settings.openai_base_url()
    if key is None and base_url is None:
        raise ModelUnavailableError(
            "The 'openai' backend needs OPENAI_API_KEY (and OPENAI_BASE_URL for another compatible server)."
        )
    timeout = httpx.Timeout(settings.request_timeout_s, connect=settings.connect_timeout_s)
    return ChatOpenAI(
        model=settings.openai_model,
        api_key=key or "not-needed",  # local servers accept any key
        base_url=base_url,
        timeout=timeout,
        max_retries=settings.max_retries,
        temperature=settings.temperature,
        max_tokens=settings.max_answer_tokens,
        streaming=streaming,
    )
