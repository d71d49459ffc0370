"""Rewriting a follow-up question into a standalone one without a model.

Used by the extractive backend (and as the fallback of the model backends). Handles the forms
users actually type: "那TensorFlow呢？" / "X呢？" / "what about X?" (same question, new subject),
pronouns ("它", "其", "这些", "it", "they") that point at the previous subject, and very short
questions ("为什么？", "具体说说") and references to the whole previous question ("这样做是为了
什么？") that only make sense with the previous one.
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
    r"它们|他们|这些|那些|这个|那个|这种|该模型|(?<!其)它|(?<![尤极与])其(?![他它中实余次])"
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
_EN_NOT_SUBJECT = re.compile(
    r"\b(what|who|which|how|why|when|where|is|are|was|were|does|do|did|can|could|should)\b", re.I
)
_ZH_ABOUT = re.compile(r"^(?:那么?|还有)\s*(?P<x>[^？?]+?)\s*呢\s*[？?。!！]*$")
_ZH_SHORT = re.compile(r"^(为什么|为何|怎么|具体|举个?例|详细|还有吗|然后呢|有哪些|是什么)")
# "这样做" / "这么做" / "此举" point at what the previous question was about as a whole: the two
# questions are asked together ("未来要关注哪些新的算法和模型，这样做是为了提高什么？").
_ZH_WHOLE_REFERENCE = re.compile(r"这样|这么做|如此|此举|这一点")  # 这样 covers 这样做/这样的话
# Where the subject of a Chinese question ends: the first predicate word.
_ZH_PREDICATE = re.compile(
    r"(是|的|有|包括|指|如何|怎么|怎样|为什么|能|可以|由|在|属于|用于|主要|会|面临|涉及|需要|应该|存在|带来|使用|采用)"
)
_EN_SUBJECT = re.compile(
    r"\b(?:of|about|is|are|does|do|did)\s+(?P<s>[A-Za-z][\w\- ]{1,40}?)\s*[?.!]*$", re.I
)
_EN_ENTITY = re.compile(r"\b([A-Z][A-Za-z0-9\-]+|[A-Z]{2,}[A-Za-z0-9\-]*)\b")
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


_ZH_LEAD = re.compile(r"^(请问|请介绍一下|介绍一下|请解释一下|解释一下|什么是|何为|啥是|谁是)")


def _zh_subject(question: str) -> str:
    text = _ZH_LEAD.sub("", question.strip().rstrip("？?。!！"))
    match = _ZH_PREDICATE.search(text)
    subject = text[: match.start()] if match else text
    subject = subject.strip()
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
    # recursion, so a long conversation cannot exhaust the stack).
    previous = history[0]
    for turn in history[1:]:
        previous = _rewrite_after(turn, previous) or turn
    return _rewrite_after(question, previous)


def _rewrite_after(question: str, previous: str) -> str | None:
    """``question`` made standalone given the standalone previous question."""
    subject = subject_of(previous)
    text = question.strip()

    new_subject = _new_subject(text)
    if new_subject and subject and subject in previous and new_subject != subject:
        return previous.replace(subject, new_subject, 1)

    if detect_language(text) == "zh":
        if _ZH_WHOLE_REFERENCE.search(text) and len(text) <= 20:
            return f"{previous.rstrip('？?。 ')}，{text}"
        pronoun = _ZH_PRONOUNS.search(text)
        if pronoun and subject and subject not in text:
            resolved = text[: pronoun.start()] + subject + text[pronoun.end() :]
            # "那它的发展趋势呢？" asks what that thing is: "AI大模型的发展趋势是什么？"
            bare = _ZH_ABOUT.match(resolved)
            return f"{bare.group('x')}是什么？" if bare else resolved
        if _ZH_SHORT.match(text) and len(text) <= 12 and subject and subject not in text:
            return (
                f"{subject}{text}"
                if not text.startswith(("为什么", "为何"))
                else f"{previous.rstrip('？?')}，{text}"
            )
    else:
        match = _EN_PRONOUNS.search(text)
        # A question that names its own subject ("What are the tools that support NLP?") stands alone.
        if match and subject and subject.lower() not in text.lower() and not _en_entities(text):
            group = 1 if match.group(1) else 2
            word = match.group(group).lower()
            replacement = f"{subject}'s" if word in ("its", "their") else subject
            return text[: match.start(group)] + replacement + text[match.end(group) :]
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
