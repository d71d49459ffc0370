"""The scores of the evaluation: pure functions of strings and numbers.

Matching text (``normalize``): NFKC first (full-width letters, digits and punctuation become their
ASCII forms), then lower case, then every punctuation mark and symbol (Unicode categories P* and
S*: ASCII and full-width punctuation alike), white space and control character is removed. What
is left is compared character by character: Chinese has no spaces, so words are no unit (the
common ROUGE package drops CJK characters and scores 0; contracts.md).

The CMRC 2018 scores (``cmrc_em``, ``cmrc_f1``) follow the official CMRC 2018 evaluation script
instead, so the figures compare with published ones: see their docstrings.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence

# --- text -----------------------------------------------------------------------------------------

_CITATION = re.compile(r"\[\d+\]")
_DROPPED_CATEGORIES = ("P", "S", "Z", "C")  # punctuation, symbols, separators, controls


def strip_citations(text: str) -> str:
    """The answer without its ``[n]`` citation markers (their digits are not part of the answer)."""
    return _CITATION.sub("", text)


def normalize(text: str) -> str:
    """Lower-cased characters without punctuation, symbols or white space: '深度学习，PyTorch！'
    and '深度学习 pytorch' both become '深度学习pytorch'."""
    text = unicodedata.normalize("NFKC", text).lower()
    return "".join(
        ch
        for ch in text
        if not ch.isspace() and unicodedata.category(ch)[0] not in _DROPPED_CATEGORIES
    )


# --- answer similarity ---------------------------------------------------------------------------


def char_f1(prediction: str, reference: str) -> float:
    """F1 of the two texts' characters counted as bags (SQuAD's token F1, with characters as
    tokens). Both empty after normalisation: 1.0; one empty: 0.0."""
    pred, ref = normalize(prediction), normalize(reference)
    if not pred or not ref:
        return float(pred == ref)
    common = sum((Counter(pred) & Counter(ref)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(pred), common / len(ref)
    return 2 * precision * recall / (precision + recall)


def lcs_length(a: Sequence, b: Sequence) -> int:
    """Length of the longest common subsequence (not necessarily contiguous)."""
    if len(a) < len(b):
        a, b = b, a
    previous = [0] * (len(b) + 1)
    for x in a:
        current = [0]
        for j, y in enumerate(b, start=1):
            current.append(previous[j - 1] + 1 if x == y else max(previous[j], current[j - 1]))
        previous = current
    return previous[-1]


def rouge_l(prediction: str, reference: str) -> float:
    """ROUGE-L F1 on characters: precision = LCS / len(prediction), recall = LCS / len(reference),
    balanced F (beta = 1). Empty texts as in ``char_f1``."""
    pred, ref = normalize(prediction), normalize(reference)
    if not pred or not ref:
        return float(pred == ref)
    lcs = lcs_length(pred, ref)
    if lcs == 0:
        return 0.0
    precision, recall = lcs / len(pred), lcs / len(ref)
    return 2 * precision * recall / (precision + recall)


def best_over(metric, prediction: str, references: Iterable[str]) -> float:
    """The best score of ``prediction`` against any of several references (0.0 if none)."""
    return max((metric(prediction, ref) for ref in references), default=0.0)


def missing_keys(answer: str, keys: Sequence[str]) -> list[str]:
    """The key phrases not found in the answer (both normalised); keys that normalise to
    nothing are ignored."""
    text = normalize(answer)
    return [k for k in keys if normalize(k) and normalize(k) not in text]


def key_recall(answer: str, keys: Sequence[str]) -> float | None:
    """Share of the key phrases found in the answer after normalisation; None without keys."""
    counted = [k for k in keys if normalize(k)]
    if not counted:
        return None
    return 1.0 - len(missing_keys(answer, counted)) / len(counted)


def contains_answer(prediction: str, answers: Iterable[str]) -> bool:
    """A gold answer appears in the response, both normalised."""
    text = normalize(prediction)
    return any(gold and gold in text for gold in (normalize(a) for a in answers))


def abstain_correct(abstained: bool, expect: str) -> bool:
    """Right to abstain exactly when the corpus does not hold the answer."""
    return abstained == (expect == "abstain")


# --- retrieval -----------------------------------------------------------------------------------


def hit_rank(sections: Sequence[str], source: str) -> int | None:
    """1-based rank of the first retrieved section that contains ``source`` (the heading text of
    the section holding the answer) as a substring; None when no retrieved one does."""
    for rank, section in enumerate(sections, start=1):
        if source in section:
            return rank
    return None


def hit_at_k(ranks: Sequence[int | None], k: int) -> float | None:
    """Share of items whose first hit is within the top ``k`` (None: no hit at all)."""
    if not ranks:
        return None
    return sum(1 for r in ranks if r is not None and r <= k) / len(ranks)


def mrr(ranks: Sequence[int | None]) -> float | None:
    """Mean reciprocal rank of the first hit, 0 for an item without one."""
    if not ranks:
        return None
    return sum(1 / r for r in ranks if r is not None) / len(ranks)


# --- aggregation ---------------------------------------------------------------------------------


def mean(values: Iterable[float | None]) -> float | None:
    """Mean of the values that are not None; None when there are none."""
    kept = [v for v in values if v is not None]
    return sum(kept) / len(kept) if kept else None


def percentile(values: Sequence[float], p: float) -> float | None:
    """Nearest-rank percentile: the smallest value with at least p% of the values at or below
    it (always one of the values, no interpolation). p50 of [10, 20, 30, 40] is 20."""
    if not values:
        return None
    if not 0 < p <= 100:
        raise ValueError(f"percentile must be in (0, 100], got {p}")
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


# --- CMRC 2018 (official evaluation script, v5) ------------------------------------------------

# The script's ``sp_char`` list. It also lists '……', a two-character string that never equals a
# single character, so it has no effect and is left out here.
_CMRC_PUNCTUATION = frozenset("-:_*^/\\~`+=" + "，。：？！“”；’《》·、「」（）－～『』")
_CMRC_CJK = re.compile(r"[\u4e00-\u9fa5]")
# The script splits the non-Chinese runs with nltk.word_tokenize; this pattern gives the same
# tokens for words, numbers (1.5, 1,000) and punctuation, without the nltk dependency. (It differs
# on English contractions such as "don't", which nltk splits into "do" and "n't".)
_CMRC_TOKEN = re.compile(r"\d+(?:[.,]\d+)+|\w+|[^\w\s]")


def cmrc_segments(text: str, *, remove_punctuation: bool = False) -> list[str]:
    """The script's ``mixed_segmentation``: lower case; every Chinese character (and every listed
    punctuation mark) is one segment; runs of other text are split into words."""
    segments: list[str] = []
    run: list[str] = []
    for ch in text.lower().strip():
        if remove_punctuation and ch in _CMRC_PUNCTUATION:
            continue
        if _CMRC_CJK.match(ch) or ch in _CMRC_PUNCTUATION:
            if run:
                segments.extend(_CMRC_TOKEN.findall("".join(run)))
                run = []
            segments.append(ch)
        else:
            run.append(ch)
    if run:
        segments.extend(_CMRC_TOKEN.findall("".join(run)))
    return segments


def _longest_common_run(a: Sequence[str], b: Sequence[str]) -> int:
    """Length of the longest common contiguous run (the script's ``find_lcs``)."""
    best = 0
    previous = [0] * (len(b) + 1)
    for x in a:
        current = [0] * (len(b) + 1)
        for j, y in enumerate(b, start=1):
            if x == y:
                current[j] = previous[j - 1] + 1
                best = max(best, current[j])
        previous = current
    return best


def cmrc_f1(prediction: str, answers: Sequence[str]) -> float:
    """CMRC 2018 F1 (0-1, the script reports it x100): for each gold answer, precision and recall
    of the longest common contiguous run of segments (characters for Chinese, punctuation
    removed); the best gold answer counts."""
    scores = [0.0]
    pred = cmrc_segments(prediction, remove_punctuation=True)
    for answer in answers:
        gold = cmrc_segments(answer, remove_punctuation=True)
        common = _longest_common_run(gold, pred)
        if common == 0:
            continue
        precision, recall = common / len(pred), common / len(gold)
        scores.append(2 * precision * recall / (precision + recall))
    return max(scores)


def _cmrc_strip(text: str) -> str:
    return "".join(ch for ch in text.lower().strip() if ch not in _CMRC_PUNCTUATION)


def cmrc_em(prediction: str, answers: Sequence[str]) -> float:
    """CMRC 2018 exact match (1.0 or 0.0): equal to a gold answer after lower-casing, trimming and
    removing the listed punctuation (inner spaces are kept, as in the script)."""
    pred = _cmrc_strip(prediction)
    return float(any(_cmrc_strip(answer) == pred for answer in answers))
