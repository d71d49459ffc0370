"""What every backend does: rewrite a follow-up, and stream an answer from passages."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Protocol

from index.retrieval import Passage

from ..errors import AssistantError, BackendError, InvalidQuestionError
from ..extractive import extract_answer
from ..followup import rewrite_followup
from ..language import Language
from ..prompts import load_prompt
from ..settings import Settings

LANGUAGE_NAMES = {"zh": "Simplified Chinese (简体中文)", "en": "English"}
ABSTAIN = {
    "zh": "抱歉，现有文档中没有与这个问题相关的内容，我无法据此回答。",
    "en": "Sorry, the documents do not cover this question, so I cannot answer it from them.",
}


class Backend(Protocol):
    name: str

    def rewrite(self, question: str, history: list[str]) -> str | None: ...

    def stream_answer(
        self, question: str, passages: list[Passage], language: Language
    ) -> Iterator[str]: ...


class ExtractiveBackend:
    name = "extractive"

    def rewrite(self, question: str, history: list[str]) -> str | None:
        return rewrite_followup(question, history)

    def stream_answer(
        self, question: str, passages: list[Passage], language: Language
    ) -> Iterator[str]:
        text, _ = extract_answer(question, passages, language)
        yield text or ABSTAIN[language]


class ChatBackend:
    """A LangChain chat model behind the answer prompt, with a token budget that always fits."""

    def __init__(
        self, name: str, model, count_tokens: Callable[[str], int] | None, settings: Settings
    ):
        self.name = name
        self.model = model
        self.settings = settings
        self._count = count_tokens or _cl100k

    # The heuristic rewriter is exact for the common forms; the model is asked only when the
    # heuristic found nothing and the question is short enough to be an elliptical follow-up.
    def rewrite(self, question: str, history: list[str]) -> str | None:
        heuristic = rewrite_followup(question, history)
        if heuristic or not history or len(question) > 20:
            return heuristic
        from langchain_core.output_parsers import StrOutputParser
        from langchain_core.prompts import ChatPromptTemplate

        prompt = ChatPromptTemplate.from_messages([("human", load_prompt("rewrite"))])
        chain = prompt | self.model.bind(max_tokens=64, temperature=0.0) | StrOutputParser()
        try:
            text = chain.invoke({"history": "\n".join(history[-4:]), "question": question}).strip()
        except Exception as exc:
            raise _backend_error(self.name, exc) from exc
        text = text.splitlines()[0].strip() if text else ""
        if not text or len(text) > 3 * (len(question) + len(history[-1])) or text == question:
            return None
        return text

    @property
    def window(self) -> int:
        return self.settings.llm_context_tokens if self.name == "llamacpp" else 16000

    def passage_budget(self, question: str, system: str) -> int:
        """Tokens left for passages once system, question, template and answer are counted."""
        return (
            self.window
            - self.settings.max_answer_tokens
            - self._count(system)
            - self._count(question)
            - self._count(load_prompt("answer_user"))
            - 32
        )

    def budget_passages(self, question: str, passages: list[Passage], system: str) -> str:
        """Numbered passages, cut so that system + passages + question + answer fit the window."""
        budget = self.passage_budget(question, system)
        blocks, used = [], 0
        for n, passage in enumerate(passages, start=1):
            # Heading lines repeat the section path; small models copy them, so they are left out.
            body = "\n".join(
                line for line in passage.text.splitlines() if line.strip() and not line.lstrip().startswith("#")
            )
            block = f"[{n}] {passage.section}\n{body}"
            cost = self._count(block) + 4
            if used + cost > budget:
                remaining = budget - used
                if remaining < 48:
                    break
                # Cut by the character share, then shorten until the count really fits
                # (tokens per character vary between Chinese, English and code).
                full, keep = block, max(int(len(block) * remaining / cost) - 8, 0)
                block = full[:keep] + "…"
                while keep > 0 and self._count(block) + 4 > remaining:
                    keep = int(keep * 0.9)
                    block = full[:keep] + "…"
                if keep == 0:
                    break
                cost = self._count(block) + 4
            blocks.append(block)
            used += cost
        return "\n\n".join(blocks)

    def stream_answer(
        self, question: str, passages: list[Passage], language: Language
    ) -> Iterator[str]:
        from langchain_core.output_parsers import StrOutputParser
        from langchain_core.prompts import ChatPromptTemplate

        system = load_prompt("answer_system").format(
            abstain_message=ABSTAIN[language], language_name=LANGUAGE_NAMES[language]
        )
        if self.passage_budget(question, system) < 0:
            raise InvalidQuestionError(
                f"The question is too long for the model's context window of {self.window} "
                "tokens; shorten it."
            )
        context = self.budget_passages(question, passages, system)
        prompt = ChatPromptTemplate.from_messages(
            [("system", "{system}"), ("human", load_prompt("answer_user"))]
        )
        chain = prompt | self.model | StrOutputParser()
        try:
            yield from chain.stream(
                {
                    "system": system,
                    "passages": context,
                    "question": question,
                    "language_name": LANGUAGE_NAMES[language],
                }
            )
        except AssistantError:
            raise
        except Exception as exc:
            raise _backend_error(self.name, exc) from exc


def _backend_error(name: str, exc: Exception) -> BackendError:
    kind = type(exc).__name__
    if "Timeout" in kind:
        reason = "did not answer in time"
    elif "Connection" in kind:
        reason = "cannot be reached"
    elif "RateLimit" in kind:
        reason = "is rate-limiting requests (HTTP 429)"
    else:
        reason = f"failed ({kind})"
    return BackendError(
        f"The '{name}' answering backend {reason}; check that it is running and configured "
        "(OPENAI_BASE_URL, OPENAI_API_KEY, model), or choose another backend."
    )


def _cl100k(text: str) -> int:
    from index.tokens import count_tokens

    return count_tokens(text)
