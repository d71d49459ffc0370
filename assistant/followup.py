"""Rewriting a follow-up question into a standalone one without a model.

Used by the extractive backend (and as the fallback of the model backends). Handles the forms
users actually type: "那TensorFlow呢？" / "X呢？" / "what about X?" (same question, new subject),
pronouns ("它", "其", "这些", "這個", "it", "they") that point at the previous subject, and very
short questions ("为什么？", "具体说说"), references to the whole previous question ("这样做是为了
什么？"), choices among what it listed ("其中哪一个…", "后者…") and English questions that go on
from it ("And what …?"), which only make sense together with the previous one.

Every form was measured on `corpus/eval/followup_dev.jsonl` (48 follow-ups written by someone who
never saw this code); docs/results.md has the ablation.
"""

from __future__ import annotations

import re

from .language import detect_language

_ZH_NEW_SUBJECT = re.compile(
    r"^(?:那么?|还有|那如果是|如果是|换成)?\s*(?P<x>.+?)\s*(?:呢|怎么样|如何)\s*[？?。!！]*$"
)
_EN_NEW_SUBJECT = re.compile(
    r"^(?:and|what about|how about|and what about)\s+(?P<x>.+?)\s*[?.!]*$", re.I
)
# "其" and "它" also occur inside ordinary words (其他, 其中, 尤其, 其它): those are not pronouns.
_ZH_PRONOUNS = re.compile(
    r"它们|它們|他们|他們|这些|這些|那些|这个|這個|那个|那個|这种|這種|该模型|該模型"
    r"|(?<!其)它|(?<![尤极与])其(?![他它中实余次])"
)
# "that" is a pronoun only at the end ("Who made that?"), elsewhere it is mostly a conjunction
# or relative ("tools that support NLP").
_EN_PRONOUNS = re.compile(r"\b(it|its|they|them|their|this|these|those)\b|\b(that)\s*[?.!]*$", re.I)
# What a "new subject" follow-up ("那TensorFlow呢？", "what about TensorFlow?") names must be a bare
# subject: with a predicate or a question word it is a question of its own
# ("AI大模型未来的发展趋势如何？", "and what is BERT?").
_ZH_NOT_SUBJECT = re.compile(
    r"是|的|有|包括|指|怎么|怎样|为什么|为何|能|可以|属于|用于|什么|哪|谁|多少|几|吗|是否"
)
_EN_CONTINUES = re.compile(r"^(?:and|also|then|so)\b", re.I)
_EN_NOT_SUBJECT = re.compile(
    r"\b(what|who|which|how|why|when|where|is|are|was|were|does|do|did|can|could|should)\b", re.I
)
_ZH_ABOUT = re.compile(r"^(?:那么?|还有)\s*(?P<x>[^？?]+?)\s*呢\s*[？?。!！]*$")
_ZH_SHORT = re.compile(r"^(为什么|为何|怎么|具体|举个?例|详细|还有吗|然后呢|有哪些|是什么)")
# "这样做" / "这么做" / "此举" point at what the previous question was about as a whole: the two
# questions are asked together ("未来要关注哪些新的算法和模型，这样做是为了提高什么？").
_ZH_WHOLE_REFERENCE = re.compile(r"这样|這樣|这么做|這麼做|如此|此举|此舉|这一点|這一點")
# "其中…", "前者/后者", "哪一个": a choice among what the previous answer listed. The question is
# asked together with the previous one, as above ("文中推荐了哪些工具，其中哪一个提供了预训练模型？").
_ZH_AMONG = re.compile(r"^(?:其中|哪一[个個项項])|前者|后者|後者")
# How a question names the text it asks about ("文中说的…", "总结里提到的…", "背景部分是否提到了…"):
# not the subject; the subject follows it.
_ZH_FRAME = re.compile(
    r"^(?:文中|文章|本文|全文|文档|文檔|这篇文章|這篇文章|[\u4e00-\u9fff]{1,4}?(?:里|裡|中|部分))"
    r"(?:是否|有没有|有沒有)?(?:所)?(?:说|說|提到|介绍|介紹|讲到|講到|列出|推荐|推薦)(?:的|了|过|過)?"
)
# Where the subject of a Chinese question ends: the first predicate word.
_ZH_PREDICATE = re.compile(
    r"(是|的|有|包括|指|如何|怎么|怎样|为什么|能|可以|由|在|属于|用于|主要|会|面临|涉及|需要|应该|存在|带来|使用|采用)"
)
_EN_SUBJECT = re.compile(
    r"\b(?:of|about|is|are|does|do|did)\s+(?P<s>[A-Za-z][\w\- ]{1,40}?)\s*[?.!]*$", re.I
)
# Bounded by ASCII, not by \b: Chinese characters are word characters, so "其中PyTorch是…" has
# no \b around the name.
_EN_ENTITY = re.compile(
    r"(?<![A-Za-z0-9_])([A-Z][A-Za-z0-9\-]+|[A-Z]{2,}[A-Za-z0-9\-]*)(?![A-Za-z0-9_])"
)
_QUESTION_WORDS = {
    "What",
    "Who",
    "Which",
    "How",
    "Why",
    "When",
    "Where",
    "Is",
    "Are",
    "Do",
    "Does",
    "Can",
    "The",
}


# "哪些深度学习工具": the question word is no part of the subject.
_ZH_ASKED = re.compile(r"^(?:哪些|哪個|哪个|哪种|哪種|什么|什麼)")
_ZH_LEAD = re.compile(r"^(请问|请介绍一下|介绍一下|请解释一下|解释一下|什么是|何为|啥是|谁是)")


def _zh_head(question: str) -> str:
    """The question without its opening ("请问…", "什么是…") and its frame ("文中说的…")."""
    text = _ZH_LEAD.sub("", question.strip().rstrip("？?。!！"))
    return _ZH_FRAME.sub("", text) or text


def _shared_end(subject: str, rest: str) -> int:
    """How many opening characters of ``rest`` repeat the end of ``subject`` (at least 2)."""
    return next(
        (n for n in range(min(len(rest), len(subject)), 1, -1) if subject.endswith(rest[:n])), 0
    )


def _zh_subject(question: str) -> str:
    text = _zh_head(question)
    match = _ZH_PREDICATE.search(text)
    subject = text[: match.start()] if match else text
    subject = _ZH_ASKED.sub("", subject.strip())
    if 0 < len(subject) <= 20:
        return subject
    english = _EN_ENTITY.findall(text)
    return english[0] if english else ""


_EN_WH_PHRASE = re.compile(
    r"^(?:which|what)\s+(?P<s>[a-z][\w\- ]{1,40}?)\s+(?:does|do|did|is|are|was|were|can|could|should|will)\b",
    re.I,
)


def _en_subject(question: str) -> str:
    entities = _en_entities(question)
    if entities:
        return entities[0]
    # "Which deep learning frameworks does …": the noun phrase the question asks about.
    match = _EN_WH_PHRASE.search(question.strip())
    if match:
        return match.group("s").strip()
    match = _EN_SUBJECT.search(question.strip())
    return match.group("s").strip() if match else ""


def subject_of(question: str) -> str:
    """The thing a question is about (used to resolve the next question's pronouns)."""
    if detect_language(question) == "zh":
        return _zh_subject(question)
    return _en_subject(question)


def rewrite_followup(question: str, history: list[str]) -> str | None:
    """A standalone version of ``question`` given earlier user turns, or None if it already is one."""
    if not history:
        return None
    # Earlier turns may themselves have been follow-ups: resolve them oldest first (a loop, not
    # recursion, so a long conversation cannot exhaust the stack). The subject travels with the
    # turns: a turn asked together with the previous one ("…，其中哪一个最早？") keeps the
    # previous subject, as the concatenation has none of its own.
    previous, subject = history[0], subject_of(history[0])
    for turn in history[1:]:
        rewritten = _rewrite_after(turn, previous, subject)
        together = rewritten is not None and rewritten.endswith(turn.strip())
        previous = rewritten or turn
        subject = subject if together else subject_of(previous)
    return _rewrite_after(question, previous, subject)


def _rewrite_after(question: str, previous: str, subject: str) -> str | None:
    """``question`` made standalone given the standalone previous question and its subject."""
    text = question.strip()

    new_subject = _new_subject(text)
    if new_subject and subject and subject in previous and new_subject != subject:
        return previous.replace(subject, new_subject, 1)

    if detect_language(text) == "zh":
        among = _ZH_AMONG.match(text)
        if among and _en_entities(text):
            # "其中PyTorch是谁开发的？": a name makes the choice a question of its own.
            return text[among.end() :].lstrip("，, ")
        if (_ZH_WHOLE_REFERENCE.search(text) or _ZH_AMONG.search(text)) and len(text) <= 20:
            return f"{previous.rstrip('？?。 ')}，{text}"
        pronoun = _ZH_PRONOUNS.search(text)
        if pronoun and subject and subject not in text:
            rest = text[pronoun.end() :]
            # "这些模型…" after "AI大模型…": the noun after the pronoun repeats the subject's end.
            resolved = text[: pronoun.start()] + subject + rest[_shared_end(subject, rest) :]
            # "那它的发展趋势呢？" asks what that thing is: "AI大模型的发展趋势是什么？"
            bare = _ZH_ABOUT.match(resolved)
            return f"{bare.group('x')}是什么？" if bare else resolved
        if _ZH_SHORT.match(text) and len(text) <= 12 and subject and subject not in text:
            # "有哪些工具？" takes the subject the previous question opens with; "为什么？" and a
            # previous question whose subject is not its head ("在AI大模型领域…需要关注几个方面？")
            # are asked together with it.
            if text.startswith(("为什么", "为何")) or not _zh_head(previous).startswith(subject):
                return f"{previous.rstrip('？?')}，{text}"
            return f"{subject}{text}"
    else:
        match = _EN_PRONOUNS.search(text)
        # A question that names its own subject ("What are the tools that support NLP?") stands alone.
        if match and subject and subject.lower() not in text.lower() and not _en_entities(text):
            group = 1 if match.group(1) else 2
            word = match.group(group).lower()
            replacement = f"{subject}'s" if word in ("its", "their") else subject
            return text[: match.start(group)] + replacement + text[match.end(group) :]
        # "And what input is passed to the tokenizer?": a question that goes on from the
        # previous one without naming its subject is asked together with it.
        go_on = _EN_CONTINUES.match(text)
        if go_on and not _en_entities(text[go_on.end() :]):
            return f"{previous.rstrip('?. ')}; {text}"
    return None


def _new_subject(text: str) -> str | None:
    """X of "那X呢？" / "X怎么样？" / "what about X?", when X is a bare subject."""
    zh = _ZH_NEW_SUBJECT.match(text)
    if zh:
        subject = zh.group("x").strip().removesuffix("的")  # "计算机视觉的呢？"
        return subject if len(subject) <= 30 and not _ZH_NOT_SUBJECT.search(subject) else None
    en = _EN_NEW_SUBJECT.match(text)
    if en:
        subject = en.group("x").strip()
        return subject if len(subject) <= 30 and not _EN_NOT_SUBJECT.search(subject) else None
    return None


def _en_entities(text: str) -> list[str]:
    return [e for e in _EN_ENTITY.findall(text) if e not in _QUESTION_WORDS]
