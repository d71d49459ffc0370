"""A found chunk is read with its section's neighbours (index/section_window.py), on a real index:
small chunks in Chroma and the keyword index, searched by the hybrid searcher."""

from __future__ import annotations

import pytest

from assistant.api import Assistant
from index.tokens import count_tokens

pytestmark = pytest.mark.integration

# One long section of eight numbered facts, then two short sections: at 48-token chunks the
# first section is cut into several chunks, and no chunk holds every fact.
FACTS = [
    f"第{n}条：青石湾灯塔的第{n}项记录写着{word}。" for n, word in enumerate("甲乙丙丁戊己庚辛", 1)
]
# One sentence longer than a chunk: the chunker cuts it at commas, with no blank between parts.
LONG_SENTENCE = (
    "灯塔于1902年由港务局动工兴建，1905年首次点亮，1937年在战火中受损停用，1951年由渔民集资修复，"
    "1978年改用电力光源，1999年加装自动雾笛，2016年被列为市级文物保护单位并向游客开放。"
)
DOCUMENT = (
    "# 灯塔档案\n\n## 记录\n\n"
    + "".join(FACTS)
    + "\n\n## 附近\n\n灯塔以北三公里是白沙渡口，渡船每小时一班。\n\n## 沿革\n\n"
    + LONG_SENTENCE
    + "\n"
)


@pytest.fixture
def assistant_for(components_factory, tmp_path):
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "lighthouse.md").write_text(DOCUMENT, encoding="utf-8")
    made = {}

    def make(passage_tokens: int):
        if not made:
            components = components_factory(chunk_max_tokens=48, chunk_min_tokens=0)
            report = components.indexer().index_paths([folder])
            assert not report.errors, report.errors
            made["components"] = components
        return Assistant(components=made["components"], passage_max_tokens=passage_tokens)

    return make


def test_a_found_chunk_is_widened_within_its_section_and_budget(assistant_for):
    plain = assistant_for(0).retrieve("青石湾灯塔第五项记录写着什么？", 10)
    same_section = [p for p in plain if p.section == plain[0].section]
    assert len(same_section) >= 3, "the section must span several chunks for this test"
    assert not all(fact in plain[0].text for fact in FACTS)

    widened = assistant_for(400).retrieve("青石湾灯塔第五项记录写着什么？", 5)
    top = widened[0]
    assert top.id == plain[0].id and top.score == plain[0].score
    assert all(fact in top.text for fact in FACTS), top.text
    assert "白沙渡口" not in top.text, "another section was merged in"
    # Overlapping chunks are joined once: no fact is said twice.
    assert all(top.text.count(fact) == 1 for fact in FACTS), top.text
    # The chunks inside it are not shown again; the other section gets the next slot.
    assert len({p.section for p in widened}) == len(widened)


def test_the_budget_bounds_the_passage(assistant_for):
    one = assistant_for(0).retrieve("第五项记录", 1)[0]
    budget = count_tokens(one.text) + 30
    top = assistant_for(budget).retrieve("第五项记录", 1)[0]
    assert one.text.strip() in top.text or FACTS[4] in top.text
    assert len(top.text) > len(one.text), "a neighbour that fits is added"
    assert count_tokens(top.text) <= budget + 2  # joined at the overlap: at most a joiner more
    assert not all(fact in top.text for fact in FACTS)


def test_answers_read_the_widened_passage(assistant_for):
    answer = assistant_for(400).ask("青石湾灯塔第8项记录写着什么？", llm="extractive")
    assert not answer.abstained and "辛" in answer.text
    assert all(fact in answer.sources[0].text for fact in FACTS), "the shown source is widened"


def test_a_sentence_cut_between_chunks_is_read_whole(assistant_for):
    plain = assistant_for(0).retrieve("灯塔哪一年加装了自动雾笛？", 1)[0]
    assert "沿革" in plain.section and LONG_SENTENCE not in plain.text, "the sentence must be cut"
    top = assistant_for(400).retrieve("灯塔哪一年加装了自动雾笛？", 1)[0]
    # Joined where the chunker cut it, with no line break inside (that would split the sentence).
    assert LONG_SENTENCE in top.text, top.text
