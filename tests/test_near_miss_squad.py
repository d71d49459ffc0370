"""The swapped-entity near-miss sets (benchmarks/near_miss_squad.py): each sampled question is
asked as it is and with its article's title swapped for a name no paragraph of the set holds."""

from __future__ import annotations

import pytest

from benchmarks.near_miss_squad import SETS, build

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("name", sorted(SETS))
def test_each_question_has_an_unanswerable_twin(name):
    if not SETS[name].is_file():
        pytest.skip(f"{SETS[name]} is not beside the checkout")
    data = build(name, 20)
    contexts = "\n".join(p["context"] for a in data["data"] for p in a["paragraphs"])
    pairs = [
        (article["title"], qas[i], qas[i + 1])
        for article in data["data"]
        for paragraph in article["paragraphs"]
        for qas in [paragraph["qas"]]
        for i in range(0, len(qas), 2)
    ]
    assert len(pairs) == 20
    checked = 0
    for title, asked, swapped in pairs:
        assert asked["answers"] and not swapped["answers"]
        assert swapped["id"] == f"swap-{asked['id']}" and title in asked["question"]
        assert title not in swapped["question"]
        if asked["question"].count(title) != 1:
            continue
        # What took the title's place occurs nowhere in the set.
        prefix = asked["question"].index(title)
        suffix = len(asked["question"]) - prefix - len(title)
        inserted = swapped["question"][prefix : len(swapped["question"]) - suffix]
        assert inserted and inserted not in contexts
        assert swapped["question"] == asked["question"].replace(title, inserted)
        checked += 1
    assert checked >= 15
    assert build(name, 20) == data  # the same sample every time
