"""What every backend does: rewrite a follow-up, and stream an answer from passages."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Protocol

from index.passage import Passage

from ..abstention import ABSTAIN
from ..answer import PromptPassage
from ..errors import AssistantError, BackendError, InvalidQuestionError
from ..extractive import extract_answer
from ..language import Language
from ..passage_excerpt import excerpts
from ..passage_fence import fence
from ..prompts import load_prompt
from ..settings import Settings

LANGUAGE_NAMES = {"zh": "Simplified Chinese (简体中文)", "en": "English"}


class Backend(Protocol):
    """A model adapter: which passages its model reads, and the answer streamed from them."""

    name: str
    generative: bool  # writes its own text (its citations are repaired), or quotes passages

    def select_evidence(
        self, question: str, passages: list[Passage], language: Language
    ) -> list[PromptPassage]:
        """What the answer will draw on, numbered [1]..[n] in that order, fitted to the model's
        window once: ``stream_answer`` shows the model exactly this."""
        ...

    def model_rewrite(self, question: str, history: list[str]) -> str | None:
        """A standalone form of a follow-up written by the backend's model; None without one."""
        ...

    def preload(self) -> None:
        """Start loading what answering will need, without waiting for it."""
        ...

    def stream_answer(
        self, question: str, evidence: list[PromptPassage], language: Language
    ) -> Iterator[str]: ...


class ExtractiveBackend:
    name = "extractive"
    generative = False  # its sentences are quoted and cited exactly; nothing to repair

    def select_evidence(
        self, question: str, passages: list[Passage], language: Language
    ) -> list[PromptPassage]:
        return [PromptPassage(n, p, p.text) for n, p in enumerate(passages, start=1)]

    def model_rewrite(self, question: str, history: list[str]) -> str | None:
        return None  # no model: the heuristic rewriter (rewrite_step.py) is all there is

    def preload(self) -> None:
        """Nothing to load."""

    def stream_answer(
        self, question: str, evidence: list[PromptPassage], language: Language
    ) -> Iterator[str]:
        text, _ = extract_answer(question, [e.passage for e in evidence], language)
        yield text or ABSTAIN[language]


class ChatBackend:
    """A LangChain chat model behind the answer prompt, with a token budget that always fits.

    It knows its model only through what it is given: the context ``window`` in tokens,
    ``passage_tokens`` (a cap on one passage's excerpt; 0 shows whole passages) and a token
    counter. The composition root (``backends.build_backend``) sets them per kind of model.
    """

    generative = True

    def __init__(
        self,
        name: str,
        model,
        count_tokens: Callable[[str], int] | None,
        settings: Settings,
        *,
        window: int,
        passage_tokens: int = 0,
        preload: Callable[[], None] | None = None,
    ):
        self.name = name
        self.model = model
        self.settings = settings
        self.window = window
        self.passage_tokens = passage_tokens
        self._count = count_tokens or _cl100k
        self._preload = preload

    def with_model(self, model) -> ChatBackend:
        """The same backend over another chat model (e.g. one bound to a request's temperature)."""
        return ChatBackend(
            self.name,
            model,
            self._count,
            self.settings,
            window=self.window,
            passage_tokens=self.passage_tokens,
            preload=self._preload,
        )

    def preload(self) -> None:
        """Start loading a local model in the background (it then overlaps retrieval)."""
        if self._preload is not None:
            self._preload()

    def model_rewrite(self, question: str, history: list[str]) -> str | None:
        """The model's standalone form of a follow-up (rewrite_step.py decides when to ask)."""
        from langchain_core.output_parsers import StrOutputParser
        from langchain_core.prompts import ChatPromptTemplate

        turns = self._fit_history(question, history[-4:])
        if not turns:
            return None
        prompt = ChatPromptTemplate.from_messages([("human", load_prompt("rewrite"))])
        chain = (
            prompt | self.model.bind(max_tokens=REWRITE_TOKENS, temperature=0.0) | StrOutputParser()
        )
        try:
            text = chain.invoke({"history": "\n".join(turns), "question": question}).strip()
        except AssistantError:
            raise
        except Exception as exc:
            raise _backend_error(self.name, exc) from exc
        text = text.splitlines()[0].strip() if text else ""
        if not text or len(text) > 3 * (len(question) + len(history[-1])) or text == question:
            return None
        return text

    def _fit_history(self, question: str, history: list[str]) -> list[str]:
        """The most recent turns that fit the window beside the rewrite prompt; the oldest turn
        kept may be cut to its end (the part nearest the question)."""
        budget = (
            self.window
            - REWRITE_TOKENS
            - self._count(load_prompt("rewrite"))
            - self._count(question)
            - TEMPLATE_MARGIN
        )
        kept: list[str] = []
        for turn in reversed(history):
            cost = self._count(turn) + 1
            if cost > budget:
                keep = int(len(turn) * budget / cost) - 8
                while keep > 0 and self._count("…" + turn[-keep:]) + 1 > budget:
                    keep = int(keep * 0.9)
                if keep > 8:
                    kept.insert(0, "…" + turn[-keep:])
                break
            kept.insert(0, turn)
            budget -= cost
        return kept

    def _heading(self, passage: Passage) -> str:
        """The passage's section path; with excerpts on (a small window) only its last part,
        "5.2 BERT示例" for "5. 具体最佳实践：代码实例和详细解释说明 > 5.2 BERT示例": the full path
        costs ~25 prompt tokens a passage, a quarter of a second each on two cores."""
        if self.passage_tokens > 0:
            return passage.section.rsplit(" > ", 1)[-1]
        return passage.section

    @staticmethod
    def system_prompt(language: Language) -> str:
        return load_prompt("answer_system").format(
            abstain_message=ABSTAIN[language], language_name=LANGUAGE_NAMES[language]
        )

    def passage_budget(self, question: str, system: str, language: Language = "zh") -> int:
        """Tokens left for passages once the system prompt, the user prompt around the question,
        the chat template and the answer are counted."""
        user = load_prompt("answer_user").format(
            passages="", question=question, language_name=LANGUAGE_NAMES[language]
        )
        return (
            self.window
            - self.settings.max_answer_tokens
            - self._count(system)
            - self._count(user)
            - TEMPLATE_MARGIN
        )

    def _block(self, evidence: PromptPassage) -> str:
        return fence(
            evidence.number, self._heading(evidence.passage), evidence.text, cut=evidence.cut
        )

    def fit(
        self, question: str, passages: list[Passage], system: str, language: Language = "zh"
    ) -> list[PromptPassage]:
        """The passages as the model will read them, in order, cut so that system + passages +
        question + answer fit the window; the last one that fits only partly is cut, the rest
        dropped."""
        budget = self.passage_budget(question, system, language)
        fitted: list[PromptPassage] = []
        used = 0
        bodies = excerpts(question, passages, self.passage_tokens, self._count)
        for n, (passage, body) in enumerate(zip(passages, bodies, strict=True), start=1):
            item = PromptPassage(n, passage, body)
            cost = self._count(self._block(item)) + 4
            if used + cost > budget:
                remaining = budget - used
                if remaining < 48:
                    break
                # Cut the body by the character share, then shorten until the count really fits
                # (tokens per character vary between Chinese, English and code); the fence
                # stays whole.
                keep = max(int(len(body) * remaining / cost) - 8, 0)
                item = PromptPassage(n, passage, body[:keep], cut=True)
                while keep > 0 and self._count(self._block(item)) + 4 > remaining:
                    keep = int(keep * 0.9)
                    item = PromptPassage(n, passage, body[:keep], cut=True)
                if keep == 0:
                    break
                cost = self._count(self._block(item)) + 4
            fitted.append(item)
            used += cost
        return fitted

    def passages_block(self, evidence: list[PromptPassage]) -> str:
        """The passages part of the prompt: each piece of evidence fenced, one blank line apart."""
        return "\n\n".join(self._block(e) for e in evidence)

    def _check_fits(self, question: str, system: str, language: Language) -> None:
        if self.passage_budget(question, system, language) < 0:
            raise InvalidQuestionError(
                f"The question is too long for the model's context window of {self.window} "
                "tokens; shorten it."
            )

    def select_evidence(
        self, question: str, passages: list[Passage], language: Language
    ) -> list[PromptPassage]:
        """What the model will read, numbered [1]..[n] in this order: at most
        ``context_passages`` (small models answer better from few), and only what fits."""
        system = self.system_prompt(language)
        self._check_fits(question, system, language)
        return self.fit(question, passages[: self.settings.context_passages], system, language)

    def stream_answer(
        self, question: str, evidence: list[PromptPassage], language: Language
    ) -> Iterator[str]:
        from langchain_core.output_parsers import StrOutputParser
        from langchain_core.prompts import ChatPromptTemplate

        system = self.system_prompt(language)
        self._check_fits(question, system, language)
        prompt = ChatPromptTemplate.from_messages(
            [("system", "{system}"), ("human", load_prompt("answer_user"))]
        )
        chain = prompt | self.model | StrOutputParser()
        produced = False
        try:
            for piece in chain.stream(
                {
                    "system": system,
                    "passages": self.passages_block(evidence),
                    "question": question,
                    "language_name": LANGUAGE_NAMES[language],
                }
            ):
                produced = produced or bool(piece.strip())
                yield piece
        except AssistantError:
            raise
        except Exception as exc:
            raise _backend_error(self.name, exc) from exc
        if not produced:
            # A server that answers 200 with no readable stream, or a model that stops at once.
            raise BackendError(
                f"The '{self.name}' answering backend returned an empty answer; "
                f"{_HINTS.get(self.name, _HINTS['openai'])}."
            )


# Chat-template tokens around the messages (role markers, the assistant turn's opening).
TEMPLATE_MARGIN = 32
REWRITE_TOKENS = 64  # a standalone question is short

_HINTS = {
    "openai": "check that the server is running and that OPENAI_BASE_URL, OPENAI_API_KEY and "
    "ASSISTANT_OPENAI_MODEL are right, or choose another backend",
    "llamacpp": "try again, or choose another backend (ASSISTANT_LLM=extractive)",
}


def _status_code(exc: Exception) -> int | None:
    """The HTTP status of an error reply: openai's status errors, or httpx's."""
    import httpx2
    import openai

    if isinstance(exc, openai.APIStatusError):
        return exc.status_code
    if isinstance(exc, httpx2.HTTPStatusError):
        return exc.response.status_code
    return None


def _reason(exc: Exception) -> str:
    """What went wrong, by the exception's type: openai wraps transport errors in its own
    (``APITimeoutError``, ``APIConnectionError``), a stream broken mid-answer surfaces as httpx's
    own error, and the local model's process raises the built-in ones."""
    import http.client
    import json

    import httpx2
    import openai

    from .stream_bounds import StreamStalled

    stalled = next((e for e in _chain(exc) if isinstance(e, StreamStalled)), None)
    if stalled is not None:
        return stalled.reason
    if isinstance(exc, (openai.APITimeoutError, httpx2.TimeoutException, TimeoutError)):
        return "did not answer in time"
    if isinstance(exc, (openai.APIConnectionError, httpx2.ConnectError, ConnectionError)):
        return "cannot be reached"
    if isinstance(exc, (httpx2.RemoteProtocolError, http.client.IncompleteRead)):
        return "closed the connection in the middle of the answer"
    status = _status_code(exc)
    if status == 429:
        return "is rate-limiting requests (HTTP 429)"
    if status in (401, 403):
        return f"refused the API key (HTTP {status})"
    if status == 404:
        return "does not know this model or address (HTTP 404)"
    if status is not None and status >= 500:
        return f"had an internal error (HTTP {status})"
    if status is not None:
        return f"rejected the request (HTTP {status})"
    if isinstance(exc, json.JSONDecodeError):
        return "sent a reply that is not valid JSON"
    # LangChain says so only in a ValueError's words: a 200 reply that held no stream events.
    if isinstance(exc, ValueError) and "No generation chunks" in str(exc):
        return "sent a reply that holds no answer (not a chat-completion stream)"
    return f"failed ({type(exc).__name__})"


def _backend_error(name: str, exc: Exception) -> BackendError:
    return BackendError(
        f"The '{name}' answering backend {_reason(exc)}; {_HINTS.get(name, _HINTS['openai'])}."
    )


def _chain(exc: BaseException):
    """The exception and those it was raised from (the SDK wraps the transport's errors)."""
    seen = 0
    while exc is not None and seen < 8:
        yield exc
        exc = exc.__cause__ or exc.__context__
        seen += 1


def _cl100k(text: str) -> int:
    from index.tokens import count_tokens

    return count_tokens(text)
