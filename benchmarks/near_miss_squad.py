"""Near-miss questions from a SQuAD-format set: the paragraph is about the right thing, but the
question's key entity has been swapped, so no indexed paragraph answers it any more.

Every question that names its article's title ("尤金袋鼠分布在哪些地区？") is asked twice: as it is
(answerable) and with the title replaced by the title of an article of *another* data set that
occurs nowhere in this one ("北極熊分布在哪些地區？" becomes unanswerable here). The written file
is SQuAD 2.0-shaped (the swapped question has no answers), so `survey-assistant eval --squad`
scores both kinds and reports abstention on each separately. The CMRC 2018 trial set is the dev
part (tuned on); DRCD test, Traditional Chinese, is the frozen test part.

    python -m benchmarks.near_miss_squad cmrc OUT.json [--pairs 150]
    python -m benchmarks.near_miss_squad drcd OUT.json [--pairs 150]
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
SETS = {
    "cmrc": SHARED / "cmrc2018" / "cmrc2018_trial.json",
    "drcd": SHARED / "drcd" / "DRCD_test.json",
}
# Where the swapped-in titles come from: the other set, in this set's script.
FOREIGN = {"cmrc": ("drcd", "t2s"), "drcd": ("cmrc", "s2t")}
SEED = 20261202


def _titles(name: str, conversion: str) -> list[str]:
    from opencc import OpenCC

    convert = OpenCC(conversion).convert
    data = json.loads(SETS[name].read_text(encoding="utf-8"))
    return sorted({convert(a["title"]).strip() for a in data["data"] if len(a["title"]) >= 2})


def build(name: str, pairs: int) -> dict:
    """The set's articles with only the sampled questions, each followed by its swapped twin."""
    data = json.loads(SETS[name].read_text(encoding="utf-8"))
    everything = "\n".join(
        a["title"] + "\n" + "\n".join(p["context"] for p in a["paragraphs"]) for a in data["data"]
    )
    # A swapped-in title must occur nowhere in this set, not even inside a longer word.
    foreign = [t for t in _titles(*FOREIGN[name]) if t not in everything]
    rng = random.Random(SEED)
    eligible = [
        (a, p, q)
        for a, article in enumerate(data["data"])
        for p, paragraph in enumerate(article["paragraphs"])
        for q, qa in enumerate(paragraph["qas"])
        if len(article["title"]) >= 2 and article["title"] in qa["question"]
    ]
    chosen = set(rng.sample(eligible, min(pairs, len(eligible))))
    articles = []
    for a, article in enumerate(data["data"]):
        paragraphs = []
        for p, paragraph in enumerate(article["paragraphs"]):
            qas = []
            for q, qa in enumerate(paragraph["qas"]):
                if (a, p, q) not in chosen:
                    continue
                swapped = qa["question"].replace(article["title"], rng.choice(foreign))
                qas.append(
                    {"id": f"{qa['id']}", "question": qa["question"], "answers": qa["answers"]}
                )
                qas.append({"id": f"swap-{qa['id']}", "question": swapped, "answers": []})
            # Every paragraph stays indexed (retrieval meets the whole set); only sampled
            # questions are asked.
            paragraphs.append({"context": paragraph["context"], "qas": qas})
        articles.append({"title": article["title"], "paragraphs": paragraphs})
    return {"version": f"near-miss-{name}", "data": articles}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("set", choices=sorted(SETS))
    parser.add_argument("out", type=Path)
    parser.add_argument("--pairs", type=int, default=150)
    args = parser.parse_args()
    out = build(args.set, args.pairs)
    args.out.write_text(json.dumps(out, ensure_ascii=False), encoding="utf-8")
    asked = sum(len(p["qas"]) for a in out["data"] for p in a["paragraphs"])
    print(f"{args.out}: {asked} questions ({asked // 2} answerable, {asked // 2} swapped)")


if __name__ == "__main__":
    main()
