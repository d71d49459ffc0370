"""What every backend does: rewrite a follow-up, and stream an answer from passages."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Protocol

from index.passage import Passage

from ..errors import AssistantError, BackendError, InvalidQuestionError
from ..extractive import extract_answer
from ..followup import rewrite_followup
from ..language import Language
from ..passage_excerpt import excerpts
from ..passage_fence import fence
from ..prompts import load_prompt
from ..settings import Settings

LANGUAGE_NAMES = {"zh": "Simplified Chinese (简体中文)", "en": "English"}
ABSTAIN = {
    "zh": "抱歉，现有文档中没有与这个问题相关的内容，我无法据此回答。",
    "en": "Sorry, the documents do not cover this question, so I cannot answer it from them.",
}


class Backend(Protocol):
    name: str
    generative: bool  # writes its own text (its citations are repaired), or quotes passages

    def select_passages(
        self, question: str, passages: list[Passage], language: Language
    ) -> list[Passage]:
        """The passages the answer will draw on and cite as [1]..[n], in that order."""
        ...

    def rewrite(self, question: str, history: list[str]) -> str | None: ...

    def preload(self) -> None:
        """Start loading what answering will need, without waiting for it."""
        ...

    def stream_answer(
        self, question: str, passages: list[Passage], language: Language
    ) -> Iterator[str]: ...


class ExtractiveBackend:
    name = "extractive"
    generative = False  # its sentences are quoted and cited exactly; nothing to repair

    def select_passages(
        self, question: str, passages: list[Passage], language: Language
    ) -> list[Passage]:
        return passages

    def rewrite(self, question: str, history: list[str]) -> str | None:
        return rewrite_followup(question, history)

    def preload(self) -> None:
        """Nothing to load."""

    def stream_answer(
        self, question: str, passages: list[Passage], language: Language
    ) -> Iterator[str]:
        text, _ = extract_answer(question, passages, language)
        yield text or ABSTAIN[language]


class ChatBackend:
    """A LangChain chat model behind the answer prompt, with a token budget that always fits."""

    generative = True

    def __init__(
        self,
        name: str,
        model,
        count_tokens: Callable[[str], int] | None,
        settings: Settings,
        *,
        preload: Callable[[], None] | None = None,
    ):
        self.name = name
        self.model = model
        self.settings = settings
        self._count = count_tokens or _cl100k
        self._preload = preload

    def with_model(self, model) -> ChatBackend:
        """The same backend over another chat model (e.g. one bound to a request's temperature)."""
        return ChatBackend(self.name, model, self._count, self.settings, preload=self._preload)

    def preload(self) -> None:
        """Start loading a local model in the background (it then overlaps retrieval)."""
        if self._preload is not None:
            self._preload()

    # The heuristic rewriter is exact for the common forms; the model is asked only when the
    # heuristic found nothing and the question is short enough to be an elliptical follow-up.
    def rewrite(self, question: str, history: list[str]) -> str | None:
        heuristic = rewrite_followup(question, history)
        if heuristic or not history or len(question) > 20:
            return heuristic
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

    @property
    def window(self) -> int:
        if self.name == "llamacpp":
            return self.settings.llm_context_tokens
        return self.settings.openai_context_tokens

    @property
    def passage_tokens(self) -> int:
        """Cap on one passage's excerpt (0: whole passages); only the local model needs one."""
        return self.settings.llm_passage_tokens if self.name == "llamacpp" else 0

    def _heading(self, passage: Passage) -> str:
        """The passage's section path; for the local model (excerpts on) only its last part,
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

    def fit_passages(
        self, question: str, passages: list[Passage], system: str, language: Language = "zh"
    ) -> list[tuple[Passage, str]]:
        """(passage, numbered block) pairs, in order, cut so that system + passages + question +
        answer fit the window; the last block that fits only partly is cut, the rest dropped."""
        budget = self.passage_budget(question, system, language)
        fitted: list[tuple[Passage, str]] = []
        used = 0
        bodies = excerpts(question, passages, self.passage_tokens, self._count)
        for n, (passage, body) in enumerate(zip(passages, bodies, strict=True), start=1):
            heading = self._heading(passage)
            block = fence(n, heading, body)
            cost = self._count(block) + 4
            if used + cost > budget:
                remaining = budget - used
                if remaining < 48:
                    break
                # Cut the body by the character share, then shorten until the count really fits
                # (tokens per character vary between Chinese, English and code); the fence
                # stays whole.
                keep = max(int(len(body) * remaining / cost) - 8, 0)
                block = fence(n, heading, body[:keep], cut=True)
                while keep > 0 and self._count(block) + 4 > remaining:
                    keep = int(keep * 0.9)
                    block = fence(n, heading, body[:keep], cut=True)
                if keep == 0:
                    break
                cost = self._count(block) + 4
            fitted.append((passage, block))
            used += cost
        return fitted

    def passages_block(
        self, question: str, passages: list[Passage], system: str, language: Language = "zh"
    ) -> str:
        """The passages part of the prompt: the fitted blocks, one blank line apart."""
        return "\n\n".join(
            block for _, block in self.fit_passages(question, passages, system, language)
        )

    def _check_fits(self, question: str, system: str, language: Language) -> None:
        if self.passage_budget(question, system, language) < 0:
            raise InvalidQuestionError(
                f"The question is too long for the model's context window of {self.window} "
                "tokens; shorten it."
            )

    def select_passages(
        self, question: str, passages: list[Passage], language: Language
    ) -> list[Passage]:
        """The passages the model will see, numbered [1]..[n] in this order: at most
        ``context_passages`` (small models answer better from few), and only those that fit."""
        system = self.system_prompt(language)
        self._check_fits(question, system, language)
        chosen = passages[: self.settings.context_passages]
        return [p for p, _ in self.fit_passages(question, chosen, system, language)]

    def stream_answer(
        self, question: str, passages: list[Passage], language: Language
    ) -> Iterator[str]:
        from langchain_core.output_parsers import StrOutputParser
        from langchain_core.prompts import ChatPromptTemplate

        system = self.system_prompt(language)
        self._check_fits(question, system, language)
        chosen = passages[: self.settings.context_passages]
        context = self.passages_block(question, chosen, system, language)
        prompt = ChatPromptTemplate.from_messages(
            [("system", "{system}"), ("human", load_prompt("answer_user"))]
        )
        chain = prompt | self.model | StrOutputParser()
        produced = False
        try:
            for piece in chain.stream(
                {
                    "system": system,
                    "passages": context,
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
