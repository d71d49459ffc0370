"""The Python API (contracts.md): ``Assistant().ask(...)`` and ``.stream(...)``.

One core behind the CLI, the web app and the evaluation: validate → rewrite a follow-up →
retrieve (hybrid, calibrated) → answer from a matching FAQ record, abstain when nothing relevant
was found, or let the backend answer from the passages with ``[n]`` citations.
Safe to call from several threads at once.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

from .abstention import ABSTAIN
from .answer import Answer
from .answer_evidence import acronym_aliases, question_support
from .answerable import best_window, grounding_text, shown_passage
from .citations import CitingStream
from .components import Components
from .errors import BackendError
from .grounding import GroundedStream
from .language import Language, detect_language
from .question_check import check_history, check_question
from .rewrite_step import standalone_question
from .safety import MarkdownStreamSanitizer, neutralise_passage, safe_markdown
from .settings import LLMKind, Settings


@dataclass
class _Retrieval:
    """What the steps before answering found (private: edges read the ``Answer``)."""

    question: str
    standalone: str
    rewritten: str | None
    language: Language
    passages: list
    evidence: list
    faq: tuple | None
    timings: dict
    notices: list[str]


class Assistant:
    """``Assistant()`` reads settings from the environment; keyword arguments override them
    (``Assistant(llm="extractive", top_k=3)``), also on top of given components
    (``Assistant(components=components, top_k=3)``, which keeps their loaded embedder)."""

    def __init__(
        self, settings: Settings | None = None, *, components: Components | None = None, **overrides
    ):
        if components is None:
            components = Components(settings, **overrides)
        elif settings is not None:
            raise TypeError("Pass either settings or components to Assistant, not both.")
        elif overrides:
            components = components.with_overrides(**overrides)
        self.components = components
        self.settings = self.components.settings
        self._backends: dict[str, object] = {}
        self._lock = threading.Lock()

    # -- public ---------------------------------------------------------------------------------
    @property
    def backend_name(self) -> LLMKind:
        from .backends import default_backend

        return default_backend(self.settings)

    def backend(self, kind: LLMKind | None = None):
        kind = kind or self.backend_name
        with self._lock:
            if kind not in self._backends:
                self._backends[kind] = self.components.build_backend(kind)
            return self._backends[kind]

    def ask(
        self,
        question: str,
        history: list[str] | None = None,
        *,
        llm: LLMKind | None = None,
        top_k: int | None = None,
        temperature: float | None = None,
    ) -> Answer:
        pieces = self.stream(question, history, llm=llm, top_k=top_k, temperature=temperature)
        for _ in pieces:
            pass
        return pieces.answer

    def stream(
        self,
        question: str,
        history: list[str] | None = None,
        *,
        llm: LLMKind | None = None,
        top_k: int | None = None,
        temperature: float | None = None,
    ) -> AnswerStream:
        """Text pieces as they are generated; ``.answer`` holds the whole Answer (sources, timings)
        once the iteration has finished. ``temperature`` applies to this request only (model
        backends; the extractive backend has none)."""
        return AnswerStream(self, question, history, llm, top_k, temperature)

    def _request_backend(self, llm: LLMKind | None, temperature: float | None):
        """The shared backend, or for a request with its own temperature a view of it whose chat
        model is bound to that temperature (the loaded model itself is shared, never copied)."""
        from .backends.base import ChatBackend

        backend = self.backend(llm)
        if temperature is None or not isinstance(backend, ChatBackend):
            return backend
        return backend.with_model(backend.model.bind(temperature=float(temperature)))

    def retrieve(self, query: str, k: int | None = None):
        return self._searcher().search(query, k or self.settings.top_k)

    def warm_up(self) -> None:
        """Load the word segmenter's dictionary, the embedder, the index and the default
        answering model now, so that the first question does not pay seconds of loading. Raises
        what loading raises (nothing indexed yet, a missing model): the caller decides whether
        that matters before the first question."""
        from index.keyword_tokens import load_dictionary

        from .backends.llamacpp_chat import LlamaCppChatModel

        load_dictionary()  # a server cuts much text: jieba's whole dictionary, not its table
        self.retrieve("AI大模型", 1)
        model = getattr(self.backend(), "model", None)
        if isinstance(model, LlamaCppChatModel):
            model.load()  # the local GGUF: assembled (first run), loaded in its process

    def as_retriever(self, k: int | None = None):
        """The hybrid search as a LangChain ``BaseRetriever`` (for a chain of your own)."""
        from index.langchain_retriever import HybridRetriever

        return HybridRetriever(searcher=self._searcher(), k=k or self.settings.top_k)

    # -- steps ------------------------------------------------------------------------------------
    def _searcher(self):
        from index.retrieval import HybridSearcher

        with self._lock:
            if not hasattr(self, "_hybrid"):
                self._hybrid = HybridSearcher(
                    self.components.knowledge_base(),
                    passage_tokens=self.settings.passage_max_tokens,
                )
            return self._hybrid

    def _check(self, question, history) -> tuple[str, list[str], list[str]]:
        """The cleaned question and history, and notices; raises before anything is loaded."""
        settings = self.settings
        cleaned = check_question(question, max_chars=settings.max_question_chars)
        turns, trimmed = check_history(
            history, max_turns=settings.max_history_turns, max_chars=settings.max_question_chars
        )
        notices = (
            [
                f"Only the most recent {settings.max_history_turns} turns of the conversation "
                "were used."
            ]
            if trimmed
            else []
        )
        return cleaned, turns, notices

    def _prepare(self, checked, backend, top_k) -> _Retrieval:
        settings = self.settings
        started = time.perf_counter()
        cleaned, turns, notices = checked
        timings: dict[str, float] = {}
        rewritten = standalone_question(cleaned, turns, backend)
        timings["rewrite"] = (time.perf_counter() - started) * 1000
        standalone = rewritten or cleaned
        t0 = time.perf_counter()
        kb = self.components.knowledge_base()
        manifest = kb.load_manifest()
        if not manifest.documents:
            from .errors import IndexMissingError

            raise IndexMissingError(
                f"Nothing is indexed in {settings.data_dir} yet; run `survey-assistant index` first."
            )
        kb.check_signature(manifest)
        passages = self._searcher().search(standalone, top_k or settings.top_k)
        passages = [_neutralised(p) for p in passages]
        evidence = [p for p in passages if p.score >= settings.relevance_threshold]
        faq = None
        if evidence:
            from .faq_match import best_faq_match

            match = best_faq_match(standalone, evidence, kb.embeddings)
            if match and match[1] >= settings.faq_threshold:
                faq = match
        timings["retrieve"] = (time.perf_counter() - t0) * 1000
        return _Retrieval(
            cleaned,
            standalone,
            rewritten,
            detect_language(cleaned),
            passages,
            evidence,
            faq,
            timings,
            notices,
        )


def _neutralised(passage):
    """The passage as data: instructions and active markup removed from its text and from the
    stored question/answer of a FAQ record (which can be returned verbatim)."""
    from dataclasses import replace

    text = neutralise_passage(passage.text)
    metadata = dict(passage.metadata)
    for key in ("question", "answer"):
        if isinstance(metadata.get(key), str):
            metadata[key] = neutralise_passage(metadata[key])
    if text == passage.text and metadata == passage.metadata:
        return passage
    return replace(passage, text=text, metadata=metadata)


def _shown(question: str, sources: list, evidence, aliases, answer: str = "") -> list:
    """The sources as shown: each cut to what an answer may rest on (answerable.py), and what
    ``answer`` quotes of it."""
    return [
        shown_passage(question, p, (*best_window(evidence, rank), answer), aliases)
        for rank, p in enumerate(sources)
    ]


class AnswerStream:
    """Iterator of answer text pieces. ``answer`` is the one contract: None until retrieval is
    done, then an ``Answer`` with ``done`` False (the question as understood, the retrieved
    passages and what the model reads; no text yet), and the finished ``Answer`` when the
    iteration ends, also when the backend fails (``error`` set; the error is raised after)."""

    def __init__(self, assistant: Assistant, question, history, llm, top_k, temperature=None):
        self._assistant = assistant
        self._args = (question, history, llm, top_k)
        self._temperature = temperature
        self.answer: Answer | None = None

    def __iter__(self) -> Iterator[str]:
        assistant = self._assistant
        question, history, llm, top_k = self._args
        self._started = time.perf_counter()
        checked = assistant._check(question, history)  # bad input never loads or calls a model
        backend = assistant._request_backend(llm, self._temperature)
        backend.preload()  # a local model loads while the question is retrieved
        # The embedder's weights (USE: ~0.5 s of decompression, outside the GIL) load on the
        # other core while this one imports the stores and loads the keyword index.
        assistant.components.embeddings.preload()
        found = assistant._prepare(checked, backend, top_k)
        self._generating = time.perf_counter()
        abstain = ABSTAIN[found.language]
        if found.faq is not None:
            passage, _ = found.faq
            text = f"{safe_markdown(passage.metadata['answer']).strip()}[1]"
            self.answer = self._answer(found, backend, "", [], done=False)
            yield text
            self.answer = self._answer(found, backend, text, [passage], from_faq=True)
            return
        if not found.evidence:
            self.answer = self._answer(found, backend, "", [], done=False)
            yield abstain
            self.answer = self._answer(
                found, backend, abstain, [], reason="no passage is relevant enough to the question"
            )
            return
        yield from self._generated(found, backend, abstain)

    def _generated(self, found: _Retrieval, backend, abstain: str) -> Iterator[str]:
        """The backend's answer from the relevant passages, sanitised, its citations checked and
        each generated sentence shown only once its passages support it."""
        question = found.standalone
        prompt = backend.select_evidence(question, found.evidence, found.language)
        cited = [p.passage for p in prompt]  # the sources [1]..[n], whole
        support = question_support(question, cited) if cited else None
        reason = None if cited else "no passage fits the model's context window"
        if support is not None and not support.supported:
            # On topic, but the asked fact is not there (a near miss): abstain rather than
            # quote something beside it or let a model invent it.
            reason = support.reason
            found.notices.append(f"Not answered: {support.reason}.")
            prompt, cited = [], []
        windows = support.evidence if support is not None else ()
        aliases = acronym_aliases(question, cited)
        self.answer = self._answer(found, backend, "", [], prompt=prompt, done=False)
        # One image or tag can arrive split over several pieces: sanitise the text so far;
        # then a generating model's citations are checked against the sources.
        sanitizer = MarkdownStreamSanitizer()
        citing = grounded = None
        if backend.generative:
            citing = CitingStream([p.text for p in cited], never_cite=[abstain])
            # A generated sentence is shown only once the passages it cites are found to
            # support it (grounding.py), by their sentences about what was asked; quoted
            # sentences are the passages' own.
            grounded = GroundedStream(
                [
                    grounding_text(question, p, best_window(windows, rank), aliases)
                    for rank, p in enumerate(cited)
                ],
                question,
                never_check=[abstain],
            )

        def repaired(raw: str, last: bool = False) -> str:
            piece = sanitizer.close() if last else sanitizer.feed(raw)
            if citing is not None:
                piece = citing.feed(piece) + (citing.close() if last else "")
            if grounded is not None:
                piece = grounded.feed(piece) + (grounded.close() if last else "")
            return piece

        parts: list[str] = []
        try:
            stream = (
                backend.stream_answer(question, prompt, found.language) if prompt else [abstain]
            )
            for raw in stream:
                if piece := repaired(raw):
                    parts.append(piece)
                    yield piece
            if piece := repaired("", last=True):
                parts.append(piece)
                yield piece
        except BackendError as exc:
            # The sentence the model was writing when it stopped, checked like the others.
            if (held := repaired("", last=True)).strip():
                parts.append(held)
                yield held
            # What the model wrote before it stopped, marked as cut off; with nothing written,
            # what was retrieved is still shown, as sources are.
            partial = "".join(parts).strip()
            shown_from = cited or found.evidence
            spelled = aliases if cited else acronym_aliases(question, shown_from)
            shown = _shown(question, shown_from, windows, spelled, partial)
            self.answer = self._answer(
                found, backend, partial, shown, prompt=prompt, cut_off=bool(parts), error=str(exc)
            )
            raise
        if grounded is not None and grounded.dropped:
            count = len(grounded.dropped)
            found.notices.append(
                f"{count} sentence{'s' if count > 1 else ''} the passages do not support "
                f"{'were' if count > 1 else 'was'} left out."
            )
            if not grounded.kept:  # nothing supported is left: no answer to give
                reason = "the passages support no sentence of the generated answer"
                parts = [abstain]
                yield abstain
        text = "".join(parts).strip()
        if reason is None and text == abstain:
            reason = (
                "the model found no answer in the passages"
                if backend.generative
                else "no sentence of the passages answers the question"
            )
        shown = _shown(question, cited, windows, aliases, text)
        self.answer = self._answer(found, backend, text, shown, prompt=prompt, reason=reason)

    def _answer(
        self,
        found: _Retrieval,
        backend,
        text: str,
        sources,
        *,
        prompt=(),
        from_faq=False,
        cut_off=False,
        reason: str | None = None,
        error: str | None = None,
        done: bool = True,
    ) -> Answer:
        abstained = (
            done and error is None and (not sources or text.strip() == ABSTAIN[found.language])
        )
        timings = dict(found.timings)
        if done:
            timings["generate"] = (time.perf_counter() - self._generating) * 1000
            timings["total"] = (time.perf_counter() - self._started) * 1000
        return Answer(
            question=found.question,
            text=text,
            sources=[] if abstained else list(sources),
            abstained=abstained,
            rewritten_question=found.rewritten,
            backend=backend.name,
            timings_ms=timings,
            notices=list(found.notices),
            from_faq=from_faq,
            cut_off=cut_off,
            retrieved=list(found.passages),
            evidence=list(prompt),
            abstain_reason=reason if abstained else None,
            error=error,
            done=done,
        )
