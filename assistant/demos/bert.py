"""BERT demo: classify a text into the survey's topics, locally, with a BERT-family encoder.

Zero-shot: the packaged all-MiniLM-L6-v2 (a 6-layer BERT with a WordPiece tokenizer) embeds the
text and a description of each topic; the softmax of the scaled cosine similarities gives the
label probabilities. The model reads English well and Chinese poorly (most Chinese characters
become ``[UNK]``), which the word pieces make visible.

Fine-tuned: a ``BertForSequenceClassification`` folder (any ``AutoModelForSequenceClassification``)
chosen by the user, loaded with ``local_files_only=True`` from safetensors weights only (a pickled
``pytorch_model.bin`` can run code when loaded), with its own labels (``id2label``).
Nothing is ever downloaded.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from assistant.errors import ModelUnavailableError, UsageError

MAX_TEXT_CHARS = 5000
SHOWN_PIECES = 160
ZERO_SHOT_SCALE = 10.0  # cosine similarities are close together; this spreads the softmax


@dataclass(frozen=True)
class Topic:
    zh: str
    en: str
    description: str

    @property
    def label(self) -> str:
        return f"{self.zh} {self.en}"


# The survey's topics (its sections 3, 6, 7 and 8), described in English for the English encoder.
SURVEY_TOPICS: tuple[Topic, ...] = (
    Topic(
        "深度学习",
        "Deep learning",
        "deep learning: multi-layer neural networks trained with forward propagation, "
        "backpropagation and gradient descent",
    ),
    Topic(
        "自然语言处理",
        "NLP",
        "natural language processing: text, words, sentences, language models, translation, "
        "summarization, sentiment analysis, dialogue systems",
    ),
    Topic(
        "计算机视觉",
        "Computer vision",
        "computer vision: images, pictures, photos, video, object detection, image "
        "classification, image generation, convolutional networks",
    ),
    Topic(
        "应用场景",
        "Applications",
        "applications in industry: medical diagnosis, finance and risk assessment, climate "
        "prediction, autonomous driving, real-world use cases",
    ),
    Topic(
        "工具和资源",
        "Tools & resources",
        "software tools and libraries: TensorFlow, PyTorch, Keras, Hugging Face Transformers, "
        "OpenCV, NLTK, spaCy, frameworks and open-source resources",
    ),
    Topic(
        "发展趋势与挑战",
        "Trends & challenges",
        "future trends and challenges: compute bottlenecks, data privacy, interpretability, "
        "scaling, quantum and edge computing",
    ),
)


@dataclass
class Classification:
    labels: dict[str, float]  # label -> probability, most likely first
    pieces: list[str]  # the text's word pieces (the first SHOWN_PIECES)
    piece_count: int
    unknown_share: float  # share of word pieces that are [UNK]
    model: str


def check_text(text: str | None) -> str:
    text = (text or "").strip()
    if not text:
        raise UsageError("The text is empty; type a sentence to classify.")
    if len(text) > MAX_TEXT_CHARS:
        raise UsageError(
            f"The text is {len(text)} characters long, over the limit of {MAX_TEXT_CHARS}; shorten it."
        )
    return text


def softmax(scores: np.ndarray) -> np.ndarray:
    shifted = np.exp(scores - scores.max())
    return shifted / shifted.sum()


def _pieces(tokenizer, text: str) -> tuple[list[str], int, float]:
    pieces = tokenizer.tokenize(text)
    unknown = tokenizer.unk_token
    share = sum(p == unknown for p in pieces) / len(pieces) if pieces else 0.0
    return pieces[:SHOWN_PIECES], len(pieces), share


class ZeroShotClassifier:
    """Zero-shot topic classification with a sentence encoder (default: packaged all-MiniLM-L6-v2)."""

    def __init__(self, model_path: Path | None = None, *, scale: float = ZERO_SHOT_SCALE):
        self._path = model_path
        self._scale = scale
        self._model = None
        self._topic_vectors: dict[tuple[Topic, ...], np.ndarray] = {}
        self._lock = threading.Lock()

    @property
    def model_name(self) -> str:
        return self._path.name if self._path else "all-MiniLM-L6-v2"

    def _loaded(self):
        with self._lock:
            if self._model is None:
                from index.embeddings import packaged_minilm_path

                folder = self._path or packaged_minilm_path()
                if not (Path(folder) / "modules.json").is_file():
                    raise ModelUnavailableError(
                        f"The folder {folder} is not a sentence-transformers model (no modules.json)."
                    )
                from sentence_transformers import SentenceTransformer

                self._model = SentenceTransformer(str(folder), device="cpu", local_files_only=True)
            return self._model

    def _encode(self, texts: list[str]) -> np.ndarray:
        return np.asarray(self._loaded().encode(texts, normalize_embeddings=True))

    def classify(self, text: str, topics: tuple[Topic, ...] = SURVEY_TOPICS) -> Classification:
        text = check_text(text)
        model = self._loaded()
        with self._lock:
            vectors = self._topic_vectors.get(topics)
        if vectors is None:
            vectors = self._encode([f"{t.en}. {t.description}" for t in topics])
            with self._lock:
                self._topic_vectors[topics] = vectors
        cosine = vectors @ self._encode([text])[0]
        probabilities = softmax(cosine * self._scale)
        order = np.argsort(-probabilities)
        pieces, count, unknown = _pieces(model.tokenizer, text)
        return Classification(
            labels={topics[i].label: float(probabilities[i]) for i in order},
            pieces=pieces,
            piece_count=count,
            unknown_share=unknown,
            model=self.model_name,
        )


CLASSIFIERS_HINT = "$ASSISTANT_DATA_DIR/models/classifiers/"
_NAME = re.compile(r"[\w\-][\w.\-]{0,99}")


def classifiers_dir(data_dir: Path) -> Path:
    """The one folder fine-tuned classifiers are loaded from (a server-side allow list: a client
    names a classifier, never a path, so no other server folder is read or probed)."""
    return data_dir / "models" / "classifiers"


def available_classifiers(root: Path) -> list[str]:
    try:
        return sorted(p.name for p in root.iterdir() if p.is_dir() and _NAME.fullmatch(p.name))
    except OSError:
        return []


def check_classifier_folder(name: str, root: Path) -> Path:
    """The folder of the classifier ``name`` inside ``root``, holding a sequence-classification
    model with safetensors weights. Every message names the classifier, never a server path."""
    text = str(name or "").strip()
    if not text:
        raise UsageError("Type the name of a fine-tuned BERT classifier, or use zero-shot.")
    if not _NAME.fullmatch(text):
        raise UsageError(
            f"Give the name of a classifier folder in {CLASSIFIERS_HINT} (letters, digits, '-', "
            "'_' and '.'), not a path."
        )
    missing = ModelUnavailableError(
        f"There is no classifier named '{text}'; save one with save_pretrained() into "
        f"{CLASSIFIERS_HINT}{text}."
    )
    base = root.resolve()
    path = (root / text).resolve()
    if base not in path.parents or not path.is_dir():  # a link out of the folder counts as none
        raise missing
    if not (path / "config.json").is_file():
        raise ModelUnavailableError(
            f"The classifier '{text}' holds no config.json; save the model with save_pretrained()."
        )
    if not any(path.glob("*.safetensors")):
        raise ModelUnavailableError(
            f"The classifier '{text}' has no .safetensors weights; save the model with "
            "save_pretrained(safe_serialization=True) (pickled .bin weights are not loaded)."
        )
    return path


class FineTunedClassifier:
    """A fine-tuned ``BertForSequenceClassification`` checkpoint folder, run on the CPU."""

    def __init__(self, folder: Path):
        self.folder = folder
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        try:
            self.tokenizer = AutoTokenizer.from_pretrained(
                str(self.folder), local_files_only=True, trust_remote_code=False
            )
            self.model = AutoModelForSequenceClassification.from_pretrained(
                str(self.folder),
                local_files_only=True,
                trust_remote_code=False,
                use_safetensors=True,
            )
        except (OSError, ValueError, KeyError) as exc:
            raise ModelUnavailableError(
                f"The classifier '{self.folder.name}' could not be loaded ({type(exc).__name__}); "
                "it needs a config, a tokenizer and safetensors weights saved with save_pretrained()."
            ) from exc
        self.model.eval()
        self._lock = threading.Lock()

    @property
    def labels(self) -> list[str]:
        mapping = self.model.config.id2label or {}
        return [str(mapping.get(i, f"LABEL_{i}")) for i in range(self.model.config.num_labels)]

    def classify(self, text: str) -> Classification:
        import torch

        text = check_text(text)
        inputs = self.tokenizer(text, return_tensors="pt", truncation=True, max_length=512)
        with self._lock, torch.inference_mode():
            logits = self.model(**inputs).logits[0].float().numpy()
        probabilities = softmax(logits)
        labels = self.labels
        order = np.argsort(-probabilities)
        pieces, count, unknown = _pieces(self.tokenizer, text)
        return Classification(
            labels={labels[i]: float(probabilities[i]) for i in order},
            pieces=pieces,
            piece_count=count,
            unknown_share=unknown,
            model=self.folder.name,
        )


class BERTDemo:
    """The zero-shot classifier and the fine-tuned ones the users opened, shared by every session.
    Fine-tuned classifiers are named, and loaded only from ``classifiers_root``."""

    def __init__(self, zero_shot: ZeroShotClassifier | None = None, *, classifiers_root: Path):
        self.zero_shot = zero_shot or ZeroShotClassifier()
        self.classifiers_root = classifiers_root
        self._fine_tuned: dict[Path, FineTunedClassifier] = {}
        self._lock = threading.Lock()

    def classify(self, text: str, name: str | None = None) -> Classification:
        if not name or not name.strip():
            return self.zero_shot.classify(text)
        path = check_classifier_folder(name, self.classifiers_root)
        with self._lock:
            if path not in self._fine_tuned:
                self._fine_tuned[path] = FineTunedClassifier(path)
            classifier = self._fine_tuned[path]
        return classifier.classify(text)
