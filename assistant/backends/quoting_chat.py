"""A deterministic stand-in chat model (``ASSISTANT_LLM=fake``): it "answers" by quoting the
sentence of the first passage in its prompt that shares most characters and words with the
question (the first such sentence on a tie), cited ``[1]``, and gives the abstention sentence when
the prompt holds no passage.

For tests of everything around a generating model (the prompt and its fences, streaming, citation
repair, the grounding check, the web app) without a model: the same prompt always gives the same
answer, and the answer depends on the prompt, unlike a list of canned replies. It streams a few
characters at a time, so a sentence arrives in many pieces, as a model's does.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult

from index.hashing_embeddings import features

from ..abstention import ABSTAIN
from ..passage_fence import CLOSE, CUT, OPEN

_FIRST_PASSAGE = re.compile(rf"^\[1\]\n{re.escape(OPEN)}\n(.*?)\n{re.escape(CLOSE)}", re.M | re.S)
_SENTENCE = re.compile(r".+?(?:[。！？!?]|\.(?=\s)|$)", re.S)
_CJK = re.compile(r"[\u4e00-\u9fff]")
PIECE_CHARS = 3


def quoted_answer(prompt: str) -> str:
    """The answer to a prompt: the sentence of passage [1] (its heading line skipped) nearest the
    question, with ``[1]``, or the abstention sentence in the question's language."""
    question = prompt.rsplit("Question:", 1)[-1].split("\n", 1)[0]
    found = _FIRST_PASSAGE.search(prompt)
    body = found.group(1).split("\n", 1)[-1].removesuffix(CUT) if found else ""
    sentences = [
        s.group(0).strip()
        for line in body.splitlines()
        for s in _SENTENCE.finditer(line.strip().lstrip("#-*> ").strip())
        if s.group(0).strip()
    ]
    if not sentences:
        return ABSTAIN["zh" if _CJK.search(question) else "en"]
    asked = set(features(question))
    best = max(sentences, key=lambda s: len(asked & set(features(s))))  # first of the best
    return best + "[1]"


class QuotingChatModel(BaseChatModel):
    @property
    def _llm_type(self) -> str:
        return "quoting-fake"

    def _generate(self, messages: list[BaseMessage], stop=None, run_manager=None, **kwargs):
        text = quoted_answer(str(messages[-1].content))
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=text))])

    def _stream(
        self, messages: list[BaseMessage], stop=None, run_manager=None, **kwargs
    ) -> Iterator[ChatGenerationChunk]:
        text = quoted_answer(str(messages[-1].content))
        for start in range(0, len(text), PIECE_CHARS):
            piece = text[start : start + PIECE_CHARS]
            yield ChatGenerationChunk(message=AIMessageChunk(content=piece))
