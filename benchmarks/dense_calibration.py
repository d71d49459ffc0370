"""The cosine figures behind an embedder's ``DenseCalibration``, on dev data only.

    python -m benchmarks.dense_calibration [e5|use]

Reads the survey dev questions (corpus/eval/survey_faq.jsonl, survey_en.jsonl,
near_miss_dev.jsonl) and the CMRC 2018 trial set; never the frozen parts (survey_test.jsonl,
DRCD). For each question it prints where the cosine of its gold chunk lies, and where the best
cosine of questions the documents do not answer lies, then the floor and ceilings that the rule
below derives:

- the relevance threshold (``Settings.relevance_threshold``, 0.4) sits at the cosine that keeps
  the most answerable gold chunks while letting through at most 1 in 10 off-topic questions
  (``cut``);
- the ceiling is the 99th percentile of the gold cosines (only the best matches reach 1.0, so
  relevance still orders the good ones);
- the floor follows from both: ``cut = floor + 0.4 * (ceiling - floor)``;
- the cross-lingual floor and ceiling: the same rule on the English questions over the Chinese
  survey;
- the question scale of the FAQ match: its floor is the 99th percentile of the cosines of two
  unrelated CMRC questions (other paragraphs); its ceiling puts the FAQ threshold
  (``Settings.faq_threshold``, 0.8) at the 99th percentile of two different questions about the
  same paragraph, so that a stored answer is not handed to a neighbouring question (capped at 1).
"""

from __future__ import annotations

import sys

import numpy as np

from assistant.components import Components
from assistant.evaluation.dataset import read_faq_pairs
from assistant.settings import SOURCE_ROOT, Settings

from .cmrc import load_cmrc
from .common import fresh_dir, row

THRESHOLD = 0.4
FAQ_THRESHOLD = 0.8
OFF_TOPIC_PASS = 0.1
EVAL = SOURCE_ROOT / "corpus" / "eval"


def _quantiles(values, qs=(5, 10, 50, 90, 95)) -> str:
    if not len(values):
        return "-"
    return " ".join(f"p{q}={np.percentile(values, q):.3f}" for q in qs)


def _cut(gold: np.ndarray, off_topic: np.ndarray) -> float:
    """The lowest cosine that lets at most OFF_TOPIC_PASS of the off-topic questions through."""
    if not len(off_topic):
        return float(np.percentile(gold, 5))
    return float(np.quantile(off_topic, 1 - OFF_TOPIC_PASS))


def _scale(gold: np.ndarray, off_topic: np.ndarray) -> tuple[float, float, float]:
    cut = _cut(gold, off_topic)
    ceiling = float(np.percentile(gold, 99))
    floor = (cut - THRESHOLD * ceiling) / (1 - THRESHOLD)
    return cut, floor, ceiling


def _survey(components: Components):
    components.indexer().index_paths([SOURCE_ROOT / "corpus"])
    snapshot = components.knowledge_base().stores().keyword_index.load()
    records = snapshot.records
    embeddings = components.embeddings
    vectors = np.asarray(embeddings.embed_documents([r.text for r in records]), dtype=np.float32)
    sections = [r.metadata.get("section", "") for r in records]
    results = {"zh": ([], []), "en": ([], []), "near-miss": ([], [])}
    for name, part in (("survey_faq", "zh"), ("survey_en", "en"), ("near_miss_dev", "near-miss")):
        for item in read_faq_pairs(EVAL / f"{name}.jsonl"):
            if item.history:
                continue  # follow-ups are rewritten before retrieval; their raw form says little
            q = np.asarray(embeddings.embed_query(item.question), dtype=np.float32)
            cosines = vectors @ q
            gold, off = results[part]
            if not item.answerable:
                off.append(float(cosines.max()))
            elif item.source:
                hits = [c for c, s in zip(cosines, sections, strict=True) if item.source in s]
                if hits:
                    gold.append(max(hits))
    return {k: (np.array(g), np.array(o)) for k, (g, o) in results.items()}


def _cmrc(embeddings, limit: int = 300):
    docs, questions = load_cmrc()
    names = [d.name for d in docs]
    vectors = np.asarray(embeddings.embed_documents([d.text for d in docs]), dtype=np.float32)
    questions = questions[:limit]
    qv = np.asarray([embeddings.embed_query(q.question) for q in questions], dtype=np.float32)
    gold, other = [], []
    for q, v in zip(questions, qv, strict=True):
        cosines = vectors @ v
        g = names.index(q.paragraph)
        gold.append(float(cosines[g]))
        other.append(float(np.delete(cosines, g).max()))
    pair = qv @ qv.T
    same, unrelated = [], []
    docs_of = [q.paragraph for q in questions]
    for i in range(len(questions)):
        for j in range(i + 1, len(questions)):
            (same if docs_of[i] == docs_of[j] else unrelated).append(float(pair[i, j]))
    stored = np.asarray(embeddings.embed_documents([q.question for q in questions]), np.float32)
    self_pairs = (stored * qv).sum(1)  # a question as a stored FAQ question and as a query
    return np.array(gold), np.array(other), np.array(same), np.array(unrelated), self_pairs


def main() -> None:
    embedder = sys.argv[1] if len(sys.argv) > 1 else "e5"
    components = Components(Settings(data_dir=fresh_dir("bench-cal-"), embedder=embedder))
    print(f"Dense calibration figures for '{components.embeddings.fingerprint}' (dev data only)")
    survey = _survey(components)
    for part, (gold, off) in survey.items():
        row(f"survey {part}: gold-chunk cosine", _quantiles(gold), f"n={len(gold)}")
        row(f"survey {part}: best cosine, unanswerable", _quantiles(off), f"n={len(off)}")
    gold, other, same, unrelated, self_pairs = _cmrc(components.embeddings)
    row("CMRC trial: gold-paragraph cosine", _quantiles(gold), f"n={len(gold)}")
    row("CMRC trial: best other paragraph", _quantiles(other))
    row("CMRC questions: same paragraph", _quantiles(same, (50, 90, 99)))
    row("CMRC questions: other paragraphs", _quantiles(unrelated, (50, 90, 99)))
    row("CMRC question as query vs as stored", _quantiles(self_pairs, (1, 50)))
    zh_gold, zh_off = survey["zh"]
    cut, floor, ceiling = _scale(np.concatenate([zh_gold, gold]), zh_off)
    en_cut, en_floor, en_ceiling = _scale(*survey["en"])
    q_floor = float(np.percentile(unrelated, 99))
    q_ceiling = min(1.0, q_floor + (float(np.percentile(same, 99)) - q_floor) / FAQ_THRESHOLD)
    row("derived: cut / floor / ceiling", f"{cut:.3f} / {floor:.3f} / {ceiling:.3f}")
    row(
        "derived: cross-lingual cut / floor / ceiling",
        f"{en_cut:.3f} / {en_floor:.3f} / {en_ceiling:.3f}",
    )
    row("derived: question floor / ceiling", f"{q_floor:.3f} / {q_ceiling:.3f}")
    print("current:", components.embeddings.calibration)


if __name__ == "__main__":
    main()
