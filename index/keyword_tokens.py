"""Tokens for the keyword index and the terms that measure how well a chunk covers a question.

BM25 tokens: jieba's search mode, which emits both a long word and its parts ("大模型" → "模型",
"大模型"), so a question's shorter word matches a document's compound. Punctuation and a short stop
list are dropped so that scores measure content words.
"""

from __future__ import annotations

import re
import threading
from functools import cache
from pathlib import Path

_WORD = re.compile(r"[\w\u4e00-\u9fff\u3400-\u4dbf]", re.UNICODE)
_CJK = re.compile(r"[\u4e00-\u9fff\u3400-\u4dbf]")
LATIN_TERM = re.compile(r"[a-z0-9]+(?:[-_.+][a-z0-9]+)*")

# Function words and question words: they carry no topic. Kept short on purpose (content words
# must never be lost).
STOP_WORDS = frozenset(
    """
    的 了 是 在 和 与 及 或 等 也 都 就 而 被 把 对 于 从 中 上 下 为 以 其 之 这 那 这些 那些 这个 那个
    什么 哪些 哪个 哪类 哪种 哪家 哪里 哪儿 哪几 哪几个 哪些方面 谁 为何 为什么 怎么样 怎么 怎样 如何 多少 几 多大
    吗 呢 吧 啊 呀 么 请 请问 一个 一些 一种 有 有的 没有 可以 能 会 要 我 你 他 她 它 我们 你们 他们 它们
    是否 个 由 将 并 还 又 很 所 着 过 给 让 向 做 用 分别 到底 具体 主要 哪方面
    a an the of to in on at by for is are was were be been being and or not no do does did what which who
    whom whose how why when where that this these those it its as with from into about than then so such
    can could would should will shall may might must i you he she we they me him her us them my your our
    their there here any some
    """.split()
)

# Words a question uses to talk about the document itself ("这篇综述提到…", "文章认为…"); they
# never occur in its text, and counting them would make every question look uncovered.
META_WORDS = frozenset(
    """文章 本文 文中 综述 这篇 该文 作者 提到 提及 列出 列举 介绍 认为 指出 描述 谈到 讲到 里面 当中 之中
    document documents survey article paper text mention mentions mentioned list listed say says""".split()
)

# A Latin or alphanumeric term in a Chinese question is usually a name (GPT-4, PyTorch): whether
# the chunk has it decides more than any ordinary word.
ENTITY_WEIGHT = 2.5

# jieba's dictionary: the on-disk table (index/jieba_dictionary.py) while a process has cut
# little text (a cold question), the loaded dictionary once it cuts more (indexing, a server).
# Both cut alike.
TABLE_CHARS = 20_000
_dictionary_table: Path | None = None
_state_lock = threading.Lock()
_init_lock = threading.Lock()
_on_table = None  # the tokenizer on the table; False once known that there is no usable table
_on_table_chars = 0


def use_dictionary_table(path: Path) -> None:
    """Where the on-disk table of jieba's dictionary is kept (set by the composition root)."""
    global _dictionary_table
    _dictionary_table = path


def _jieba(chars: int):
    """A jieba tokenizer for cutting ``chars`` more characters."""
    global _on_table, _on_table_chars
    if _loaded_jieba.cache_info().currsize:
        return _loaded_jieba()
    with _state_lock:
        if _on_table is None and _dictionary_table is not None:
            from .jieba_dictionary import FrequencyTable, tokenizer_on_table

            table = FrequencyTable.open(_dictionary_table)
            _on_table = tokenizer_on_table(table) if table else False
        if _on_table and _on_table_chars + chars <= TABLE_CHARS:
            _on_table_chars += chars
            return _on_table
    return _loaded_jieba()


@cache
def _loaded_jieba():
    """jieba with its whole dictionary loaded (1.1-1.4 s); writes the on-disk table if missing."""
    import logging

    import jieba

    jieba.setLogLevel(logging.WARNING)
    with _init_lock:
        jieba.initialize()
    table = _dictionary_table
    if table is not None:
        from .jieba_dictionary import FrequencyTable, write_table

        current = FrequencyTable.open(table)
        if current is None:
            write_table(table, jieba.dt.FREQ, jieba.dt.total, _word_tags())
        else:
            current.close()
    return jieba


def _word_tags():
    """jieba's part-of-speech tags (importing jieba.posseg reads them: ~1.4 s)."""
    import jieba.posseg

    return jieba.posseg.dt.word_tag_tab


def load_dictionary() -> None:
    """Load jieba's whole dictionary now (a server, before its first question)."""
    _loaded_jieba()


def keyword_tokens(text: str) -> list[str]:
    """Content tokens of ``text`` in order (repeats kept: BM25 counts term frequency)."""
    tokens: list[str] = []
    for token in _jieba(len(text)).cut_for_search(text.lower()):
        token = token.strip()
        if token and _WORD.search(token) and token not in STOP_WORDS:
            tokens.append(token)
    return tokens


def has_cjk(text: str) -> bool:
    return bool(_CJK.search(text))


def coverage_terms(text: str) -> tuple[list[str], list[str]]:
    """Terms whose presence in a chunk shows that it covers the question: (CJK terms, Latin terms).

    CJK: each jieba word of the question that is not a stop or meta word; a word of three or more
    characters is represented by its character bigrams, so "计算资源" matches "计算" + "资源" in
    "计算和资源" but "量子计算机" still needs 量子. Latin: whole words ("gpt-4", "pytorch").
    """
    lowered = text.lower()
    cjk_terms: list[str] = []
    for word in _jieba(len(lowered)).cut(lowered):
        if not _CJK.search(word) or word in STOP_WORDS or word in META_WORDS:
            continue
        word = "".join(_CJK.findall(word))
        if len(word) <= 2:
            cjk_terms.append(word)
        else:
            cjk_terms.extend(word[i : i + 2] for i in range(len(word) - 1))
    latin_terms = [
        w for w in LATIN_TERM.findall(lowered) if w not in STOP_WORDS and w not in META_WORDS
    ]
    return list(dict.fromkeys(cjk_terms)), list(dict.fromkeys(latin_terms))


def precise_words(text: str) -> list[str]:
    """jieba's precise cut of ``text`` (each character in one word), blanks dropped."""
    return [w for w in _jieba(len(text)).cut(text) if w.strip()]


_tag_table = None  # the on-disk table, opened for tags; False once known to be unusable


def dictionary_tag(word: str) -> str | None:
    """The part-of-speech tag jieba's dictionary gives ``word`` (None: unknown word). Read from
    the on-disk table, so a cold process does not load jieba's tag list."""
    global _tag_table
    with _state_lock:
        if _tag_table is None:
            from .jieba_dictionary import FrequencyTable

            opened = None
            if _dictionary_table is not None:
                opened = FrequencyTable.open(_dictionary_table)
                if opened is None:
                    _loaded_jieba()  # writes the table, tags included
                    opened = FrequencyTable.open(_dictionary_table)
            _tag_table = opened or False
    if _tag_table:
        return _tag_table.tag(word)
    return _word_tags().get(word)


def dictionary_frequency(word: str) -> int:
    """How often ``word`` occurs in the general corpus behind jieba's dictionary (0: unknown)."""
    tokenizer = _jieba(len(word))
    frequencies = tokenizer.dt.FREQ if hasattr(tokenizer, "dt") else tokenizer.FREQ
    return frequencies.get(word) or 0
