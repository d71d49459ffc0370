"""What kind of answer a question asks for, and whether a text holds one.

"Keras是哪家公司开发的？" needs the name of a company; "多少个" a number; "哪一年" a date;
"多少钱" a price; "哪篇论文" a title. A text holds an answer of that kind only with one the
question does not already hold: "GPT-3有多少参数" is not answered by the "3" of "GPT-3".
"""

from __future__ import annotations

import re
from functools import lru_cache

from index.keyword_tokens import dictionary_tag, precise_words

from .answer_support import MIN_UNKNOWN_CHARS, folded
from .instruction_rules import fold

_NUMERAL_ZH = "零一二三四五六七八九十百千万亿两"
_NUMBER_WORDS_EN = (
    r"\b(one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|fifty"
    r"|sixty|seventy|eighty|ninety|hundreds?|thousands?|millions?|billions?|dozens?|half)\b"
)
# A number: digits, a Chinese numeral with a multiplier or of two or more characters ("两万",
# "十二"), one before another character ("八毫克"; "一" only before a unit of measure, since
# "一些", "一般", "一种", "一个" are articles, not amounts), or an English number word.
NUMBER = re.compile(
    r"\d"
    rf"|[{_NUMERAL_ZH}]*[十百千万亿][{_NUMERAL_ZH}]*|[{_NUMERAL_ZH}]{{2,}}"
    r"|[二三四五六七八九两](?=[\u4e00-\u9fff])"
    r"|一(?=[半年月日次层倍册米吨岁度分秒天周元块])"
    "|" + _NUMBER_WORDS_EN,
    re.IGNORECASE,
)
# A time: a number, a month, a season, a period, a part of the day, in Chinese or English.
YEAR_OR_DATE = re.compile(
    r"\d+\s*(年|月|日|号|时|点|世纪|年代)|(?<!\d)(1[0-9]|20)\d{2}(?!\d)|\d{1,2}:\d{2}"
    rf"|[{_NUMERAL_ZH}]+[年月日]|[春夏秋冬]季?|季节|世纪|年代|时期|朝|[上中下]旬|星期|周[一二三四五六日末]"
    r"|凌晨|早上|上午|中午|下午|傍晚|晚上|每年|当年|时候|期间|年间|时代|[初末早晚前后]期|\b(january|february|march|april|may|june|july|august"
    r"|september|october|november|december|spring|summer|autumn|fall|winter|morning|evening|noon"
    r"|century|decade)\b",
    re.IGNORECASE,
)
# Latin identifiers with digits ("gpt-3", "text-davinci-002", "v1.5"): their digits are no amount.
LATIN_NAMEISH = re.compile(
    r"[A-Za-z_][A-Za-z0-9_]*(?:[-.][A-Za-z0-9_]+)+|[A-Za-z_]+\d+[A-Za-z0-9_]*"
)

_ASKS_QUANTITY = re.compile(
    r"多少|(?<!哪)几[个种位名项家次层倍年]|多[大长高重远久]|how\s+(many|much|large|big|long)|what\s+(number|percentage)",
    re.IGNORECASE,
)
_ASKS_TIME = re.compile(
    r"哪一?年|何年|何时|什么时候|几月|哪天|哪一天|^\s*when\b|\b(what|which)\s+year", re.IGNORECASE
)
_ASKS_PERSON = re.compile(r"谁|哪[一]?位|什么人|哪个人|^\s*who\b|\bby\s+whom\b", re.I)
_ORGANISATION_WORDS = "公司|企业|机构|组织|团队|大学|学校|医院|实验室|研究所|研究院|厂商|单位"
_ASKS_ORGANISATION = re.compile(
    rf"哪[一]?[家个所][^，。？?]{{0,3}}?({_ORGANISATION_WORDS})|什么({_ORGANISATION_WORDS})"
    r"|\b(which|what)\s+(company|companies|organi[sz]ation|institution|lab|laboratory|university"
    r"|team|firm|vendor|hospital)\b",
    re.I,
)
_ASKS_PRICE = re.compile(
    r"多少钱|价格|售价|价钱|费用|花费|\bprice\b|\bcost\b|\bhow\s+much\s+does\b", re.I
)
# "NLTK的哪个版本", "which version": a version is a number written as one, after a name or a pin
# ("NLTK 3.8", "GPT-3.5", "openai==0.27", "v2", "第二版", "版本 4"), not any number ("支持50种语言",
# "temperature=0.7" state none: paraphrase dev pd-052 was answered with the latter), or one written
# as a name ("专业版", "King James Version", "beta").
_ASKS_VERSION = re.compile(
    r"哪[一个]?个?版本|什么版本|版本号|哪一?版(?!块|面|权)|\b(which|what)\s+version", re.IGNORECASE
)
_VERSION = re.compile(
    r"(?:(?<=[A-Za-z] )|(?<=[A-Za-z])|(?<=[A-Za-z]-)|(?<===)|(?<=>=))v?\d+(\.(\d+|x))+(?![\d.])"
    r"|(?<![A-Za-z])v\d+\b|版本\s*[:：]?\s*v?\d"
    rf"|第[{_NUMERAL_ZH}\d]+版|\bversion\s+v?\d|\d+(\.\d+)*\s*版(?!块|面|权)"
    # a named version: "专业版", "修订版", "King James Version", "Community Edition", "beta"
    r"|[\u4e00-\u9fff](?<!出)版(?![块面权本社图画])"
    r"|\b[A-Z][a-z]+(?:\s[A-Z][a-z]+)*\s(?:Version|Edition)\b|\b(?:pre-?alpha|alpha|beta|rc\d*|lts)\b",
    re.IGNORECASE,
)
_ASKS_TITLE = re.compile(
    r"哪[一]?[篇本部]|什么(论文|书|文章)|\b(which|what)\s+(paper|book|article)\b", re.I
)

# A name in a text: a Latin name in the role of a maker (below), a foreign name written with
# "·", a word ending in what organisations are called, a word jieba's dictionary tags as a
# person's or an organisation's name ("李彦宏", "清华大学"; not its place tag, which it also gives
# "深度"), or a word of three or more characters it does not know (a name its HMM put together).
_NAME_TAGS = frozenset({"nr", "nrfg", "nrt", "nt"})
_LATIN_NAME = r"[A-Z][A-Za-z0-9]*(?:[-. ][A-Z][A-Za-z0-9]*)*"
# Capitalised Latin words are mostly products and terms ("Keras：一个高层神经网络API，可以运行在
# TensorFlow之上"), not makers: one answers "谁/哪家公司" only where the grammar makes it the
# agent ("由Google开发", "Google推出了", "developed by Google", "Google's team").
_AGENT_VERBS = (
    "开发|提出|发布|推出|研发|创建|创立|发明|设计|打造|维护|训练|开源|主导|领导|资助|收购"
)
_LATIN_MAKER = re.compile(
    rf"(?:由|被|是)\s*(?P<a>{_LATIN_NAME})"
    rf"|(?<![A-Za-z])(?P<b>{_LATIN_NAME})\s*(?:公司|团队|实验室|研究院|的研究|(?:于\d+年)?(?:{_AGENT_VERBS}))"
    rf"|\b(?:by|from|at)\s+(?P<c>{_LATIN_NAME})"
    rf"|(?<![A-Za-z])(?P<d>{_LATIN_NAME})(?:'s|\s+(?:developed|created|released|introduced|proposed"
    r"|built|designed|invented|founded|launched|trained|maintains|maintained))\b"
)
_FOREIGN_NAME = re.compile(r"[\u4e00-\u9fff]+·[\u4e00-\u9fff]+")
_ORGANISATION = re.compile(
    r"[\u4e00-\u9fffA-Za-z]{1,12}(公司|集团|大学|学院|研究院|研究所|研究中心|实验室|医院|团队"
    r"|基金会|协会|委员会|政府|部门|银行)"
)
_CURRENCY = re.compile(
    r"[$¥￥€£]|\d\s*(元|美元|美金|欧元|英镑|日元|人民币|块)|\b(usd|dollars?|cents?|rmb|yuan)\b",
    re.I,
)
_TITLE = re.compile(r"《[^》]{1,60}》|“[^”]{4,80}”|\"[^\"]{8,80}\"")

_ASKS_LIST = re.compile(
    r"哪些|哪几|有什么|包括什么|包含什么|列举|列出|\bwhat\s+are\b|\bwhich\s+(?:\w+\s+){0,3}\w+s\b|\blist\b",
    re.I,
)

_CJK_WORD = re.compile(r"[\u4e00-\u9fff·]+")

# The first that matches names the kind: a price ("多少钱") before a quantity ("多少"), an
# organisation ("哪个机构") before a person.
_ASKS = (
    ("organisation", _ASKS_ORGANISATION),
    ("person", _ASKS_PERSON),
    ("price", _ASKS_PRICE),
    ("time", _ASKS_TIME),
    ("version", _ASKS_VERSION),
    ("quantity", _ASKS_QUANTITY),
    ("title", _ASKS_TITLE),
)
KINDS = tuple(kind for kind, _ in _ASKS)


def asked_kind(question: str) -> str | None:
    """What kind of answer ``question`` asks for (one of ``KINDS``), or None: a description, a
    reason, a list, a yes or no."""
    question = folded(question)  # "何時", "多少錢" as "何时", "多少钱"
    return next((kind for kind, asks in _ASKS if asks.search(question)), None)


def asks_for_list(question: str) -> bool:
    """Whether ``question`` asks for several things ("有哪些", "which frameworks")."""
    return bool(_ASKS_LIST.search(folded(question)))


@lru_cache(maxsize=16384)  # the same windows are read for each rule the tuning benchmark tries
def holds_kind(kind: str | None, text: str, question: str) -> bool:
    """Whether ``text`` holds an answer of ``kind`` that ``question`` does not already hold."""
    if kind is None:
        return True
    asked = folded(question)
    text = fold(text)  # Traditional as Simplified ("時候", "大學"), full-width as half; case kept

    def new(found: str) -> bool:
        return folded(found) not in asked

    if kind == "quantity":
        return any(new(m.group(0)) for m in NUMBER.finditer(LATIN_NAMEISH.sub(" ", text)))
    if kind == "time":
        return any(new(m.group(0)) for m in YEAR_OR_DATE.finditer(text))
    if kind == "price":
        return bool(_CURRENCY.search(text))
    if kind == "version":
        return any(new(m.group(0)) for m in _VERSION.finditer(text))
    if kind == "title":
        return any(new(m.group(0)) for m in _TITLE.finditer(text))
    # A person or an organisation: a name (a person may also answer "哪家公司", and back).
    for match in _LATIN_MAKER.finditer(text):
        if new(next(g for g in match.groups() if g)):
            return True
    for pattern in (_FOREIGN_NAME, _ORGANISATION):
        if any(new(m.group(0)) for m in pattern.finditer(text)):
            return True
    for word in precise_words(folded(text)):
        tag = dictionary_tag(word)
        named = tag in _NAME_TAGS or (tag is None and len(word) >= MIN_UNKNOWN_CHARS)
        if named and len(word) >= 2 and _CJK_WORD.fullmatch(word) and new(word):
            return True
    return False
