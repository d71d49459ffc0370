"""The grid that chose the constants of the evidence check (assistant/answer_evidence.py), on dev
data only.

Every dev question is retrieved once through the extractive path (``Assistant.stream``); its
standalone question and the passages above the relevance threshold are kept. Each rule of the grid
then decides, for every item, whether the passages state the answer. Printed per rule: the share
of near misses abstained (the survey's on-topic unanswerable dev items, and CMRC trial questions
with a swapped entity) and the share of answerable items lost to the check (answered without it,
abstained with it). Items the assistant abstains on before the check (nothing relevant retrieved)
or answers from a stored FAQ record are outside what the rule decides and count as they are.

    python -m benchmarks.evidence_tuning [--cmrc-pairs 150]

The frozen test parts (corpus/eval/survey_test.jsonl, DRCD) are never read here.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEV_SETS = (
    "survey_faq.jsonl",
    "survey_en.jsonl",
    "near_miss_dev.jsonl",
    "paraphrase_dev.jsonl",
    "followup_dev.jsonl",
)
GRID = {
    "min_focus": (0.4, 0.5, 0.6),
    "min_focus_open": (0.0, 0.25, 0.34),
    "topic_sentence": (True, False),
    "name_weight": (2.0,),
    "category_weight": (0.25,),
    "window": (1, 2),
    "check_kind": (True, False),
}


@dataclass
class Case:
    set: str
    id: str
    question: str  # standalone, as the check sees it
    answerable: bool
    passages: list  # above the relevance threshold; empty: abstained before the check
    faq: bool  # answered from a stored FAQ record


def collect(components, items, set_name: str) -> list[Case]:
    from assistant.api import Assistant

    assistant = Assistant(components=components)
    threshold = assistant.settings.relevance_threshold
    cases = []
    for item in items:
        stream = assistant.stream(item.question, list(item.history), llm="extractive")
        for _ in stream:
            pass
        answer = stream.answer
        cases.append(
            Case(
                set_name,
                item.id,
                answer.standalone_question,
                item.answerable,
                [p for p in answer.retrieved if p.score >= threshold],  # the relevant ones
                answer.from_faq,
            )
        )
    return cases


def decide(case: Case, rule) -> bool:
    """Whether the assistant abstains on ``case`` under ``rule``."""
    from assistant.answer_evidence import question_support

    if case.faq:
        return False
    if not case.passages:
        return True
    return not question_support(case.question, case.passages, rule).supported


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cmrc-pairs", type=int, default=150)
    args = parser.parse_args(argv)

    from assistant.answer_evidence import EvidenceRule
    from assistant.components import Components
    from assistant.evaluation.dataset import read_faq_pairs, read_squad
    from assistant.evaluation.squad_collection import prepare_squad_components
    from assistant.settings import Settings

    from . import near_miss_squad

    components = Components(Settings())
    if not components.knowledge_base().load_manifest().documents:
        print("Index the survey first: survey-assistant index", file=sys.stderr)
        return 2
    cases: list[Case] = []
    for name in DEV_SETS:
        cases += collect(components, read_faq_pairs(ROOT / "corpus" / "eval" / name), name)
    if near_miss_squad.SETS["cmrc"].exists():
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "cmrc_near_miss.json"
            path.write_text(
                json.dumps(near_miss_squad.build("cmrc", args.cmrc_pairs), ensure_ascii=False),
                encoding="utf-8",
            )
            squad = read_squad(path)
            cmrc = prepare_squad_components(components, path, squad.paragraphs)
            cases += collect(cmrc, squad.items, "cmrc_near_miss")

    def rates(rule) -> dict[str, tuple[float, float]]:
        out = {}
        for name in sorted({c.set for c in cases}):
            mine = [c for c in cases if c.set == name]
            missing = [c for c in mine if not c.answerable]
            answerable = [c for c in mine if c.answerable]
            base = EvidenceRule(min_focus=0.0, check_kind=False)  # only the terms decide
            lost = [c for c in answerable if decide(c, rule) and not decide(c, base)]
            caught = [c for c in missing if decide(c, rule)]
            out[name] = (
                len(caught) / len(missing) if missing else float("nan"),
                len(lost) / len(answerable) if answerable else float("nan"),
            )
        return out

    names = sorted({c.set for c in cases})
    print("rule".ljust(50) + "".join(f"{n[:20]:>22}" for n in names))
    # Per set: the share of near misses abstained (higher is better), of answerable items lost.
    print(" " * 50 + "".join(f"{'abstained':>11}{'lost':>11}" for _ in names))
    for values in itertools.product(*GRID.values()):
        rule = EvidenceRule(**dict(zip(GRID, values, strict=True)))
        figures = rates(rule)
        label = "f={} open={} topic={:d} name={} cat={} win={} kind={:d}".format(*values)
        print(
            label.ljust(50)
            + "".join(f"{figures[n][0]:>11.3f}{figures[n][1]:>11.3f}" for n in names)
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
