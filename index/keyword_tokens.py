"""Tokens for the keyword index: jieba words for Chinese, lower-cased words for other scripts.

jieba's search mode emits both a long word and its parts ("大模型" → "模型", "大模型"), which lets
a question's shorter word match a document's compound. Punctuation and a small stop list are
dropped so that scores measure content words.
"""

from __future__ import annotations

import re
import threading
from functools import cache

_WORD = re.compile(r"[\w\u4e00-\u9fff\u3400-\u4dbf]", re.UNICODE)
_CJK = re.compile(r"[\u4e00-\u9fff\u3400-\u4dbf]")

# Function words that carry no topic; kept short on purpose (content words must never be lost).
STOP_WORDS = frozenset(
    [
        "的",
        "了",
        "是",
        "在",
        "和",
        "与",
        "及",
        "或",
        "等",
        "也",
        "都",
        "就",
        "而",
        "被",
        "把",
        "对",
        "于",
        "从",
        "中",
        "上",
        "下",
        "为",
        "以",
        "其",
        "之",
        "这",
        "那",
        "这些",
        "那些",
        "这个",
        "那个",
        "什么",
        "哪些",
        "哪个",
        "哪类",
        "哪种",
        "哪些方面",
        "谁",
        "为何",
        "为什么",
        "怎么样",
        "做",
        "怎么",
        "怎样",
        "如何",
        "吗",
        "呢",
        "吧",
        "啊",
        "呀",
        "么",
        "请",
        "请问",
        "一个",
        "一些",
        "一种",
        "有",
        "有的",
        "没有",
        "可以",
        "能",
        "会",
        "要",
        "我",
        "你",
        "他",
        "她",
        "它",
        "我们",
        "你们",
        "他们",
        "它们",
        "是否",
        "多少",
        "几",
        "个",
        "由",
        "将",
        "并",
        "还",
        "又",
        "很",
        "所",
        "着",
        "过",
        "给",
        "让",
        "向",
        "per",
        "a",
        "an",
        "the",
        "of",
        "to",
        "in",
        "on",
        "at",
        "by",
        "for",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "being",
        "and",
        "or",
        "not",
        "no",
        "do",
        "does",
        "did",
        "what",
        "which",
        "who",
        "whom",
        "whose",
        "how",
        "why",
        "when",
        "where",
        "that",
        "this",
        "these",
        "those",
        "it",
        "its",
        "as",
        "with",
        "from",
        "into",
        "about",
        "than",
        "then",
        "so",
        "such",
        "can",
        "could",
        "would",
        "should",
        "will",
        "shall",
        "may",
        "might",
        "must",
        "i",
        "you",
        "he",
        "she",
        "we",
        "they",
        "me",
        "him",
        "her",
        "us",
        "them",
        "my",
        "your",
        "our",
        "their",
    ]
)

_init_lock = threading.Lock()


@cache
def _jieba():
    import logging

    import jieba

    jieba.setLogLevel(logging.WARNING)
    with _init_lock:
        jieba.initialize()
    return jieba


def keyword_tokens(text: str) -> list[str]:
    """Content tokens of ``text`` in order (repeats kept: BM25 counts term frequency)."""
    tokens: list[str] = []
    for token in _jieba().cut_for_search(text.lower()):
        token = token.strip()
        if not token or not _WORD.search(token) or token in STOP_WORDS:
            continue
        # A lone CJK function character ("之", "等") is usually noise, but single-character content
        # words ("词", "图") matter in Chinese, so only the stop list removes them.
        tokens.append(token)
    return tokens


def has_cjk(text: str) -> bool:
    return bool(_CJK.search(text))


_LATIN_TERM = re.compile(r"[a-z0-9]+(?:[-_.+][a-z0-9]+)*")


def coverage_terms(text: str) -> tuple[list[str], list[str]]:
    """Terms whose presence in a chunk shows it covers the question: (CJK terms, Latin terms).

    CJK: the question is cut by jieba, stop words break it into phrases, and each phrase gives its
    character bigrams, so "量子计算机" needs 量子/子计/计算/算机 to be covered, not just 计算 somewhere
    (jieba's cuts alone give partial credit to unrelated compounds). Latin: whole words ("gpt-4").
    """
    cjk_terms: list[str] = []
    latin_terms: list[str] = []
    phrase = ""

    def flush() -> None:
        nonlocal phrase
        if len(phrase) == 1:
            cjk_terms.append(phrase)
        else:
            cjk_terms.extend(phrase[i : i + 2] for i in range(len(phrase) - 1))
        phrase = ""

    lowered = text.lower()
    for token in _jieba().cut(lowered):
        if _CJK.search(token) and token not in STOP_WORDS and not _QUESTION_CHARS.fullmatch(token):
            phrase += token
            continue
        flush()
    flush()
    latin_terms = [w for w in _LATIN_TERM.findall(lowered) if w not in STOP_WORDS]
    return list(dict.fromkeys(cjk_terms)), list(dict.fromkeys(latin_terms))


_QUESTION_CHARS = re.compile(
    r"[吗呢吧啊呀么谁哪几多]+|哪些|哪类|哪种|哪个|什么样|多少|为何|为什么|怎么样"
)
