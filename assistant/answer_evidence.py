"""Do the passages state what is asked? Checked before any backend answers, the same for all.

A near miss is a passage about the right thing that does not say what is asked: "Keras是哪家公司
开发的？" meets "Keras：一个高层神经网络API，可以运行在TensorFlow和Theano之上。" The names are
there; the fact is not. ``question_support`` abstains unless:

1. **The passages hold what the question names**: its specific terms and the nouns it opens with
   (answer_support.py); "秋明州分布在哪些地区" is not answered by a passage on 尤金袋鼠.
2. **One window of the passages states it** (``evidence``). A window is one unit (a sentence, a
   line, a list with its introduction: passage_units.py) or a few neighbouring ones, read with
   its passage's section path and the first sentence of its line (Chinese drops a subject
   once named: "软枝黄蝉……。盛花期为夏季。"); a window never spans two lines, since the lines of a passage (list
   items, "Keras：…" definitions) state separate facts. It must hold most of the question's *focus* (its content words,
   not its question words; the word that only names the kind of answer, 公司 in 哪家公司, counts
   little) and an answer of the *kind* asked (answer_kinds.py: a name for "谁", a number for
   "多少"). A fact is stated in a sentence; words scattered over a section state nothing.

An English question over Chinese passages shares no words with them but its names (GPT-3,
PyTorch); then only those are its focus, and the kind of answer still counts. The extractive
backend quotes the best windows. Text is compared folded (NFKC, Traditional to Simplified, lower
case), so a Traditional question meets a Simplified passage. The constants (``EvidenceRule``) are
chosen on dev data only: benchmarks/evidence_tuning.py prints the grid they were read off.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from index.glosses import english_words, latin_words
from index.keyword_tokens import LATIN_TERM, META_WORDS, STOP_WORDS, dictionary_tag, precise_words
from index.passage import Passage

from .answer_kinds import asked_kind, holds_kind
from .answer_support import (
    ACRONYM_IN_TEXT,
    PROPER_NOUN_TAGS,
    folded,
    holds,
    specific_terms,
    subject,
)
from .instruction_rules import fold
from .passage_units import passage_units


@dataclass(frozen=True)
class EvidenceRule:
    """The check's constants (chosen on dev data: see the module docstring)."""

    min_focus: float = 0.5  # the least weighted share of the focus one window must hold
    # ... when the question asks for no kind of answer (a description, a list): such questions
    # are paraphrased more ("难题" for 挑战), and a near miss of them is rarer.
    min_focus_open: float = 0.25
    name_weight: float = 2.0  # a name (Latin term, proper noun) against an ordinary word (1.0)
    category_weight: float = 0.25  # the word after a question word (公司 in 哪家公司)
    # Neighbouring sentences of one line read together (2 let more near misses through on dev).
    window: int = 1
    topic_sentence: bool = True  # the first unit of a window's line counts for its focus
    check_kind: bool = True  # off only to measure what the kind check adds


RULE = EvidenceRule()


@dataclass(frozen=True)
class Evidence:
    passage_rank: int  # 0-based, into the passages given
    first: int  # the positions (passage_units) of the units it spans, inclusive
    last: int
    units: tuple[str, ...]  # their text as quoted
    focus: float  # the weighted share of the question's focus it holds


@dataclass(frozen=True)
class Support:
    supported: bool
    missing: tuple[str, ...] = ()  # the specific terms the passages lack
    reason: str = ""
    evidence: tuple[Evidence, ...] = ()  # best first


_CJK = re.compile(r"[\u4e00-\u9fff]")
_LATIN = re.compile(r"[A-Za-z]{3}")
# A unit that ends in a colon right before a code fence introduces the code.
_BEFORE_CODE = re.compile(r"[：:]\s*\n\s*(?:```|~~~)")
# Question words, whole or as the start of a jieba word ("哪家", "什么时候", "哪篇论文").
_QUESTION_WORD = re.compile(
    r"^(哪[一个些家位种类篇本部条项所里儿]*|什么|多少|几[个种位名项家次层倍年]?|怎[么样]*|如何|为何"
    r"|何[时年种]?|谁|多[大长高重远久])"
)
# jieba's tags of content words: nouns of every kind, verbs, adjectives, abbreviations, idioms.
# Prepositions, conjunctions, pronouns, adverbs, place and time words ("除了", "关于", "那段",
# "最早", "以后") say nothing a passage must state.
_CONTENT_TAGS = ("n", "v", "a", "j", "i", "l")


def focus_weights(question: str, rule: EvidenceRule = RULE) -> dict[str, float]:
    """The question's content words with their weights (see the module docstring)."""
    english = not _CJK.search(question)
    if english:  # only names are shared with passages in another language
        return {t: rule.name_weight for t in specific_terms(question, latin_names_only=True)}
    text = folded(question)
    names = set(specific_terms(question))
    weights: dict[str, float] = {}
    # Latin terms whole ("gpt-3", not "gpt" and "3"); an acronym may stand for a term the
    # passages spell out ("NLP" for 自然语言处理), so it counts as an ordinary word, not a name.
    acronyms = {a.lower() for a in ACRONYM_IN_TEXT.findall(fold(question))}
    for match in LATIN_TERM.finditer(text):
        term = match.group(0)
        if term not in STOP_WORDS and not term.isdigit():
            weights[term] = 1.0 if term in acronyms else rule.name_weight
    category_next = False  # the word after a bare question word names the kind of answer
    for word in precise_words(text):
        if not _CJK.search(word):
            category_next = False
            continue
        asked = _QUESTION_WORD.match(word)
        if asked:
            rest = word[asked.end() :]
            category_next = not rest
            if len(rest) >= 2 and rest not in STOP_WORDS:  # "什么时候" → 时候, "哪篇论文" → 论文
                weights.setdefault(rest, rule.category_weight)
            continue
        tag = dictionary_tag(word)
        function_word = tag is not None and not tag.startswith(_CONTENT_TAGS)
        if word in STOP_WORDS or word in META_WORDS or function_word or len(word) < 2:
            category_next = False
            continue
        if category_next and (tag is None or tag.startswith("n")):  # 哪家公司, not 何时成为
            weight = rule.category_weight
        elif word in names or tag in PROPER_NOUN_TAGS:
            weight = rule.name_weight
        else:
            weight = 1.0
        category_next = False
        weights[word] = max(weights.get(word, 0.0), weight)
    return weights


def _share(
    weights: dict[str, float],
    text: str,
    aliases: dict[str, str],
    glosses: dict[str, frozenset[str]] | None = None,
    latin: set[str] | None = None,
) -> float:
    """The weighted share of ``weights`` that ``text`` holds; a Chinese term also counts where
    ``latin`` (the English words of the window itself) holds one of its ``glosses``."""
    total = sum(weights.values())
    if not total:
        return 1.0
    held = sum(
        w
        for term, w in weights.items()
        if holds(text, term)
        or (term in aliases and aliases[term] in text)
        or (glosses and latin and not glosses.get(term, frozenset()).isdisjoint(latin))
    )
    return held / total


def english_glosses(weights: dict[str, float]) -> dict[str, frozenset[str]]:
    """The English words (index/glosses.py) that state each Chinese focus word in code or in an
    English name: 引擎 in ``engine="text-davinci-002"``, 预测 in ``predicted_class_id``."""
    found = {t: english_words(t) for t in weights if _CJK.search(t)}
    return {t: forms for t, forms in found.items() if forms}


def acronym_aliases(question: str, passages: list[Passage]) -> dict[str, str]:
    """What the passages spell the question's acronyms out as, where they define them:
    "自然语言处理（NLP）" makes 自然语言处理 count for "NLP". A Chinese expansion takes about two
    characters per letter (卷积神经网络 for CNN), so that many are read before the bracket."""
    aliases = {}
    text = "\n".join(fold(p.text) for p in passages)
    for acronym in dict.fromkeys(ACRONYM_IN_TEXT.findall(fold(question))):
        defined = re.search(rf"([\u4e00-\u9fff]+)\s*[（(]\s*{re.escape(acronym)}\s*[)）]", text)
        if defined:
            aliases[acronym.lower()] = folded(defined.group(1)[-2 * len(acronym) :])
    return aliases


def _code_introductions(text: str, units) -> set[int]:
    """The positions of the units that only introduce a code block ("以下是一个代码实例：")."""
    starts = {m.start() for m in _BEFORE_CODE.finditer(text)}
    if not starts:
        return set()
    found = set()
    for position, unit in enumerate(units):
        end = text.find(unit.text) + len(unit.text) - 1  # the unit's last character, its colon
        if unit.text and unit.text[-1] in "：:" and end in starts:
            found.add(position)
    return found


def evidence(question: str, passages: list[Passage], rule: EvidenceRule = RULE) -> list[Evidence]:
    """The windows of ``passages`` that state the asked fact, best first: more focus, then fewer
    units, then the better passage."""
    kind = asked_kind(question)
    weights = focus_weights(question, rule)
    least = rule.min_focus if kind else rule.min_focus_open
    aliases = acronym_aliases(question, passages)
    glosses = english_glosses(weights) if any(_LATIN.search(p.text) for p in passages) else {}
    found: list[Evidence] = []
    for rank, passage in enumerate(passages):
        context = folded(f"{passage.section}\n{passage.document}")
        units = passage_units(passage)
        # Chinese drops a subject its line has already named ("软枝黄蝉……。盛花期为夏季。"):
        # the first unit of a window's line is read with it, for focus only.
        introductions = _code_introductions(passage.text, units)
        topics: dict[int, str] = {}
        for unit in units:
            topics.setdefault(unit.line, folded(unit.scored) if rule.topic_sentence else "")
        for first in range(len(units)):
            for last in range(first, min(first + rule.window, len(units))):
                if units[last].line != units[first].line:
                    break  # another line states another fact
                span = units[first : last + 1]
                if last in introductions:
                    continue  # "以下是一个示例：" introduces the code and states nothing
                scored = "\n".join(u.scored for u in span)
                read = f"{context}\n{topics[units[first].line]}\n{folded(scored)}"
                # Glosses are read in the window's own words only: a file name such as
                # "models.md" says nothing about 模型.
                latin = latin_words(scored) if glosses else None
                focus = _share(weights, read, aliases, glosses, latin)
                if focus < least or (rule.check_kind and not holds_kind(kind, scored, question)):
                    continue
                found.append(Evidence(rank, first, last, tuple(u.text for u in span), focus))
    found.sort(key=lambda e: (-e.focus, e.last - e.first, e.passage_rank, e.first))
    return found


def question_support(question: str, passages: list[Passage], rule: EvidenceRule = RULE) -> Support:
    """Whether ``passages`` state the answer to ``question`` (see the module docstring)."""
    if not passages:
        return Support(False, reason="nothing retrieved")
    english = not _CJK.search(question)
    text = folded("\n".join(f"{p.section}\n{p.document}\n{p.text}" for p in passages))
    missing = tuple(
        t for t in specific_terms(question, latin_names_only=english) if not holds(text, t)
    )
    if not missing and not english:
        missing = tuple(t for t in subject(question) if not holds(text, t))
    if missing:
        return Support(False, missing, "the passages do not mention " + "、".join(missing))
    found = evidence(question, passages, rule)
    if not found:
        kind = asked_kind(question)
        what = f"the {kind} asked for" if kind else "what is asked"
        return Support(False, reason=f"no sentence of the passages states {what}")
    return Support(True, evidence=tuple(found))
