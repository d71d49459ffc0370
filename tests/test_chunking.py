"""Chunking: headings and section paths, sentence-aware packing, limits, FAQ chunks, and the
coverage invariant on the survey, on CMRC paragraphs and on random inputs."""

from __future__ import annotations

import itertools
import random
import re
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from langchain_core.documents import Document
from sample_data import cmrc_paragraphs as cmrc_records

from index.chunking import chunk_document, extract_faq_records
from index.documents import FAQRecord, LoadedDocument, chunk_id, indexed_text
from index.headings import front_matter_end
from index.sentences import split_sentences
from index.tokens import count_tokens, token_prefix_length

pytestmark = pytest.mark.unit

CORPUS_SURVEY = Path(__file__).resolve().parents[1] / "corpus" / "ai_large_models_survey.md"
# The seed file (../shared/seed) opens with a line of spaces and a stray level-1 heading before
# its first section; the corpus copy has front matter and the title instead. The tests put that
# opening back in front of the corpus body, so the seed's shape is tested without the seed.
SEED_BLANK_LINE = " " * 17
SEED_STRAY_HEADING = "# 1.背景介绍"
TITLE = "# AI大模型的未来发展趋势与挑战"
SENTENCE_ENDS = tuple("。！？；…!?;.")


def doc_of(text: str, fmt: str = "markdown", name: str = "doc.md") -> LoadedDocument:
    return LoadedDocument(name=name, source=name, format=fmt, text=text)


def survey_text(title: bool = True) -> str:
    """The survey as the seed file stands (``title=False``), or with the title line in place of
    its first, blank line."""
    corpus = CORPUS_SURVEY.read_text(encoding="utf-8")
    body = corpus[corpus.index(TITLE) + len(TITLE) :].lstrip("\n")
    return f"{TITLE if title else SEED_BLANK_LINE}\n\n{SEED_STRAY_HEADING}\n\n{body}"


def cmrc_paragraphs() -> list[str]:
    return [p["context"] for p in cmrc_records()]


def check_chunks(
    doc: LoadedDocument,
    chunks: list[Document],
    *,
    max_tokens: int | None = None,
    fits: Callable[[str], bool] | None = None,
) -> None:
    """The invariant every chunking must keep, whatever the input."""
    text = doc.text
    assert [c.metadata["position"] for c in chunks] == list(range(len(chunks)))
    starts = [c.metadata["start"] for c in chunks]
    assert starts == sorted(starts)
    for chunk in chunks:
        meta = chunk.metadata
        assert text[meta["start"] : meta["end"]] == chunk.page_content
        assert chunk.page_content.strip()
        assert meta["document"] == doc.name
        assert meta["kind"] in ("text", "faq")
        assert chunk.id == chunk_id(doc.name, meta["position"], chunk.page_content)
        full = indexed_text(meta["section"], chunk.page_content)
        if max_tokens is not None:
            assert count_tokens(full) <= max_tokens
        if fits is not None:
            assert fits(full)
    assert len({c.id for c in chunks}) == len(chunks)
    # Every non-space character outside the front matter lies in some chunk, in order: chunks
    # ordered by start, so checking the gaps between the merged ranges is enough.
    covered_to = front_matter_end(text, doc.format)
    for start, end in sorted((c.metadata["start"], c.metadata["end"]) for c in chunks):
        assert not text[covered_to:start].strip(), text[covered_to:start][:80]
        covered_to = max(covered_to, end)
    assert not text[covered_to:].strip()


def sections_of(chunks: list[Document]) -> list[str]:
    return [c.metadata["section"] for c in chunks]


# --- tokens ------------------------------------------------------------------------------------


def test_count_tokens_is_cl100k_and_accepts_special_token_text() -> None:
    assert count_tokens("") == 0
    assert count_tokens("hello world") == 2
    assert count_tokens("<|endoftext|>") > 1  # ordinary text, no error
    assert count_tokens("AI大模型通常指的是具有大规模参数数量") > 10


def test_token_prefix_length_cuts_at_a_character_boundary() -> None:
    text = "鬱" * 50 + "abc"  # a rare character takes several byte tokens
    for limit in range(0, 40):
        cut = token_prefix_length(text, limit)
        assert 0 <= cut <= len(text)
        assert count_tokens(text[:cut]) <= max(limit, 0) or cut == 0
    assert token_prefix_length("short", 100) == len("short")


# --- headings and section paths -----------------------------------------------------------------


def test_markdown_sections_with_title_fences_and_closing_hashes() -> None:
    text = (
        "# 手册\n\n## 安装 ##\n\n运行安装程序。\n\n```bash\n# not a heading\necho hi\n```\n\n"
        "### 1.1 下载\n\n从网站下载。\n\n1. 第一步\n2. 第二步\n\n## 使用\n\n打开程序。\n"
    )
    chunks = chunk_document(doc_of(text), max_tokens=320)
    check_chunks(doc_of(text), chunks, max_tokens=320)
    assert sections_of(chunks) == ["安装", "安装 > 1.1 下载", "使用"]
    assert chunks[0].page_content.startswith("# 手册\n\n## 安装 ##")  # title line not lost
    assert "```bash\n# not a heading\necho hi\n```" in chunks[0].page_content
    assert "1. 第一步\n2. 第二步" in chunks[1].page_content  # a list item is no heading


def test_several_level_one_headings_stay_in_paths() -> None:
    text = "# 第一篇\n\n内容一。\n\n## 小节\n\n内容二。\n\n# 第二篇\n\n内容三。\n"
    chunks = chunk_document(doc_of(text), max_tokens=320)
    assert sections_of(chunks) == ["第一篇", "第一篇 > 小节", "第二篇"]


def test_chinese_heading_forms_in_plain_text() -> None:
    text = (
        "前言部分的文字。\n第一章 总论\n一、研究背景\n背景的说明文字。\n"
        "（一）国内现状\n国内的情况。\n"
        "(二) 国外现状\n国外的情况。\n二、研究方法\n1.1 数据来源\n数据来自公开资料。\n"
        "1.1.1 采集方式\n人工采集。\n1、注意事项\n要注意安全。\n"
        "一、这一行虽然以编号开头但是以句号结尾，所以它是正文而不是标题。\n"
        "第二章 结论\n3.5亿用户\n全文结束。\n"
    )
    doc = doc_of(text, fmt="text", name="report.txt")
    chunks = chunk_document(doc, max_tokens=320, min_tokens=0, overlap_sentences=0)
    check_chunks(doc, chunks, max_tokens=320)
    by_section = {c.metadata["section"]: c.page_content for c in chunks}
    assert list(by_section) == [
        "",
        "第一章 总论 > 一、研究背景",
        "第一章 总论 > 一、研究背景 > （一）国内现状",
        "第一章 总论 > 一、研究背景 > (二) 国外现状",
        "第一章 总论 > 二、研究方法 > 1.1 数据来源",
        "第一章 总论 > 二、研究方法 > 1.1 数据来源 > 1.1.1 采集方式",
        "第一章 总论 > 二、研究方法 > 1.1 数据来源 > 1.1.1 采集方式 > 1、注意事项",
        "第二章 结论",
    ]
    # The body-less chapter heading opens the first chunk of its first sub-section.
    assert by_section["第一章 总论 > 一、研究背景"].startswith("第一章 总论\n一、研究背景")
    assert "以句号结尾" in by_section[chunks[-2].metadata["section"]]
    assert "3.5亿用户" in by_section["第二章 结论"]


def test_numbered_lines_are_not_headings_in_markdown() -> None:
    text = "## 方法\n\n1.1 这是正文里的一行\n一、也是正文\n\n更多内容。\n"
    chunks = chunk_document(doc_of(text), max_tokens=320)
    assert sections_of(chunks) == ["方法"]


def test_front_matter_is_skipped_and_does_not_change_paths() -> None:
    text = "---\ntitle: 测试\ntags: [a, b]\n---\n\n# 标题\n\n## 一节\n\n正文。\n"
    doc = doc_of(text)
    chunks = chunk_document(doc, max_tokens=320)
    check_chunks(doc, chunks, max_tokens=320)
    assert sections_of(chunks) == ["一节"]
    assert all("title:" not in c.page_content for c in chunks)
    # In plain text a leading "---" block is prose.
    plain = doc_of(text, fmt="text")
    assert "title: 测试" in chunk_document(plain, max_tokens=320)[0].page_content


def test_survey_section_paths() -> None:
    for title in (True, False):  # with the corpus title line, and as the seed file stands
        doc = doc_of(survey_text(title=title), name="survey.md")
        chunks = chunk_document(doc, max_tokens=320)
        check_chunks(doc, chunks, max_tokens=320)
        [chunk] = [c for c in chunks if "AI大模型通常指的是具有大规模参数数量" in c.page_content]
        assert chunk.metadata["section"] == "2. 核心概念与联系 > 2.1 AI大模型"
        assert all(
            "发展趋势与挑战 >" not in s and "1.背景介绍" not in s for s in sections_of(chunks)
        )
        assert "3. 核心算法原理和具体操作步骤 > 3.2 自然语言处理基础" in sections_of(chunks)


def test_corpus_survey_with_front_matter() -> None:
    doc = doc_of(CORPUS_SURVEY.read_text(encoding="utf-8"), name="ai_large_models_survey.md")
    chunks = chunk_document(doc, max_tokens=320)
    check_chunks(doc, chunks, max_tokens=320)
    [chunk] = [c for c in chunks if "AI大模型通常指的是具有大规模参数数量" in c.page_content]
    assert chunk.metadata["section"] == "2. 核心概念与联系 > 2.1 AI大模型"


# --- sentences and packing ----------------------------------------------------------------------


def test_split_sentences_chinese_and_english() -> None:
    def pieces(text: str) -> list[str]:
        return [text[s:e] for s, e in split_sentences(text, 0, len(text))]

    assert pieces("他说：“好。”然后走了！真的吗？是的；结束……后来") == [
        "他说：“好。”",
        "然后走了！",
        "真的吗？",
        "是的；",
        "结束……",
        "后来",
    ]
    assert pieces("GPT-3.5 is big. It costs $3.50 a day, e.g. for Dr. Li. Done!") == [
        "GPT-3.5 is big.",
        "It costs $3.50 a day, e.g. for Dr. Li.",
        "Done!",
    ]
    assert pieces("1. 第一项内容") == ["1. 第一项内容"]
    assert pieces("见 http://a.com/x?q=1 以及 a!=b。对") == [
        "见 http://a.com/x?q=1 以及 a!=b。",
        "对",
    ]
    assert pieces("用了ASCII问号?接着说") == ["用了ASCII问号?", "接着说"]


def test_short_sentences_are_never_cut() -> None:
    rng = random.Random(7)
    sentences = [
        "".join(
            rng.choice("模型数据训练推理参数计算资源语言视觉") for _ in range(rng.randint(5, 25))
        )
        + rng.choice("。！？；")
        for _ in range(200)
    ]
    text = "## 段落\n\n" + "".join(sentences) + "\n"
    doc = doc_of(text)
    chunks = chunk_document(doc, max_tokens=64, min_tokens=0, overlap_sentences=0)
    check_chunks(doc, chunks, max_tokens=64)
    assert len(chunks) > 10
    for chunk in chunks:
        assert chunk.page_content.endswith(SENTENCE_ENDS)


def test_long_sentence_falls_back_to_commas_then_tokens() -> None:
    clause = "大模型在很多任务上表现出色"
    sentence = "，".join([clause] * 60) + "。"
    doc = doc_of(sentence, fmt="text")
    chunks = chunk_document(doc, max_tokens=48, min_tokens=0, overlap_sentences=0)
    check_chunks(doc, chunks, max_tokens=48)
    assert len(chunks) > 5
    assert all(c.page_content.endswith(("，", "。")) for c in chunks)
    no_punctuation = "大模型在很多任务上表现出色" * 300
    doc = doc_of(no_punctuation, fmt="text")
    chunks = chunk_document(doc, max_tokens=48)
    check_chunks(doc, chunks, max_tokens=48)
    assert len(chunks) > 10


def test_english_text() -> None:
    text = "## Overview\n\n" + " ".join(
        f"Sentence number {i} talks about large models, e.g. GPT-3.5 and BERT." for i in range(80)
    )
    doc = doc_of(text)
    chunks = chunk_document(doc, max_tokens=80, min_tokens=0, overlap_sentences=0)
    check_chunks(doc, chunks, max_tokens=80)
    assert all(c.page_content.endswith("BERT.") for c in chunks)
    long_words = " ".join(f"word{i}" for i in range(2000))  # no punctuation at all
    doc = doc_of(long_words, fmt="text")
    chunks = chunk_document(doc, max_tokens=64)
    check_chunks(doc, chunks, max_tokens=64)
    # Token-level cuts prefer spaces, so words stay whole.
    assert all(re.fullmatch(r"word\d+( word\d+)*", c.page_content) for c in chunks)


@pytest.mark.parametrize("max_tokens", [16, 32, 64, 128, 320, 1000])
def test_token_limit_on_the_survey(max_tokens: int) -> None:
    doc = doc_of(survey_text(), name="survey.md")
    check_chunks(doc, chunk_document(doc, max_tokens=max_tokens), max_tokens=max_tokens)


def test_fits_is_honoured() -> None:
    def fits(text: str) -> bool:
        return len(text) <= 120

    doc = doc_of(survey_text(), name="survey.md")
    chunks = chunk_document(doc, max_tokens=320, fits=fits)
    check_chunks(doc, chunks, max_tokens=320, fits=fits)
    assert max(len(c.page_content) for c in chunks) > 60  # shrunk to fit, not to nothing


def test_overlap_repeats_the_last_sentence() -> None:
    sentences = [f"这是第{i}个句子，内容关于大模型的训练和推理。" for i in range(40)]
    doc = doc_of("".join(sentences), fmt="text")
    chunks = chunk_document(doc, max_tokens=100, min_tokens=0, overlap_sentences=1)
    check_chunks(doc, chunks, max_tokens=100)
    for previous, chunk in itertools.pairwise(chunks):
        last_sentence = previous.page_content.split("。")[-2] + "。"
        assert chunk.page_content.startswith(last_sentence)
    plain = chunk_document(doc, max_tokens=100, min_tokens=0, overlap_sentences=0)
    assert all(a.metadata["end"] <= b.metadata["start"] for a, b in itertools.pairwise(plain))
    assert len(plain) < len(chunks)


def test_small_trailing_piece_is_merged() -> None:
    text = "".join(f"第{i}句讲的是模型。" for i in range(30)) + "尾巴。"
    doc = doc_of(text, fmt="text")
    without = chunk_document(doc, max_tokens=100, min_tokens=0, overlap_sentences=0)
    merged = chunk_document(doc, max_tokens=150, min_tokens=40, overlap_sentences=0)
    check_chunks(doc, merged, max_tokens=150)
    assert count_tokens(without[-1].page_content) < 40 or len(merged) <= len(without)
    assert count_tokens(merged[-1].page_content) >= 40 or len(merged) == 1


def test_heading_without_body_forms_no_chunk_of_its_own() -> None:
    text = "## 总章\n\n### 第一节\n\n正文。\n\n## 空的最后一节\n"
    doc = doc_of(text)
    chunks = chunk_document(doc, max_tokens=320)
    check_chunks(doc, chunks, max_tokens=320)
    assert chunks[0].page_content == "## 总章\n\n### 第一节\n\n正文。"
    assert chunks[0].metadata["section"] == "总章 > 第一节"
    assert chunks[-1].page_content == "## 空的最后一节"


def test_overlong_section_path_is_shortened_to_leave_room_for_the_body() -> None:
    headings = "".join(f"{'#' * level} {'很长的标题' * 12}{level}\n\n" for level in range(1, 7))
    text = "# 书名\n\n" + headings.replace("# ", "## ", 1) + "正文的第一句。正文的第二句。\n"
    doc = doc_of(text)
    chunks = chunk_document(doc, max_tokens=64)
    check_chunks(doc, chunks, max_tokens=64)
    section = chunks[-1].metadata["section"]
    assert section and count_tokens(section) <= 32
    assert "很长的标题" in section and " > " not in section  # the innermost heading, cut


def test_ids_are_deterministic_and_unique() -> None:
    doc = doc_of(survey_text(), name="survey.md")
    first = chunk_document(doc, max_tokens=320)
    second = chunk_document(doc, max_tokens=320)
    assert [c.id for c in first] == [c.id for c in second]
    assert len({c.id for c in first}) == len(first)
    renamed = chunk_document(doc_of(doc.text, name="other.md"), max_tokens=320)
    assert not {c.id for c in first} & {c.id for c in renamed}


def test_bad_limits_are_refused() -> None:
    with pytest.raises(ValueError):
        chunk_document(doc_of("文本。"), max_tokens=8)
    with pytest.raises(ValueError):
        chunk_document(doc_of("文本。"), max_tokens=64, overlap_sentences=-1)


# --- FAQ ---------------------------------------------------------------------------------------


def test_survey_faq_section_gives_one_chunk_per_record() -> None:
    doc = doc_of(survey_text(), name="survey.md")
    records = extract_faq_records(doc)
    assert len(records) == 5
    assert records[1] == FAQRecord(
        "AI大模型的挑战是什么？",
        "AI大模型的挑战包括计算资源的瓶颈、数据的隐私保护、模型的可解释性、算法的复杂性等。",
        "9. 附录：常见问题与解答",
    )
    chunks = chunk_document(doc, max_tokens=320)
    faq = [c for c in chunks if c.metadata["kind"] == "faq"]
    assert len(faq) == 5
    for chunk, record in zip(faq, records, strict=True):
        assert chunk.page_content == f"Q: {record.question}\nA: {record.answer}"
        assert chunk.metadata["question"] == record.question
        assert chunk.metadata["answer"] == record.answer
        assert chunk.metadata["section"] == "9. 附录：常见问题与解答"
    # The section's heading and lead-in stay prose.
    lead = [
        c for c in chunks if c.metadata["section"].startswith("9.") and c.metadata["kind"] == "text"
    ]
    assert lead and lead[0].page_content.startswith("## 9. 附录：常见问题与解答")


def test_faq_markers_and_long_answers() -> None:
    answer = "".join(f"第{i}点是关于模型部署的一个较长的说明。" for i in range(40))
    text = (
        "## 问答\n\n问：什么是大模型？\n答：参数很多的模型。\n\nQ：怎么部署？\n\nA："
        + answer
        + "\n\n"
        "这一行不是问答。\n"
    )
    doc = doc_of(text)
    chunks = chunk_document(doc, max_tokens=120)
    check_chunks(doc, chunks, max_tokens=120)
    faq = [c for c in chunks if c.metadata["kind"] == "faq"]
    assert faq[0].page_content == "## 问答\n\n问：什么是大模型？\n答：参数很多的模型。"
    assert faq[0].metadata["question"] == "什么是大模型？"
    long_pieces = [c for c in faq if c.metadata["question"] == "怎么部署？"]
    assert len(long_pieces) > 1
    assert long_pieces[0].page_content.startswith("Q：怎么部署？")
    assert all(c.metadata["answer"] == answer for c in long_pieces)
    assert chunks[-1].metadata["kind"] == "text"
    # Outside a FAQ section, Q:/A: lines are prose.
    plain = doc_of("## 说明\n\nQ: 问题？\nA: 回答。\n")
    assert [c.metadata["kind"] for c in chunk_document(plain, max_tokens=320)] == ["text"]


def test_faq_format_document() -> None:
    records = (
        FAQRecord("什么是RAG？", "检索增强生成。", "常见问题"),
        FAQRecord("支持英文吗？", "支持，中文优先。\n\n也可以混合。", ""),
        FAQRecord("Is it offline?", "Yes.", ""),
    )
    text = "\n\n".join(f"Q: {r.question}\nA: {r.answer}" for r in records)
    doc = LoadedDocument("faq.jsonl", "faq.jsonl", "faq", text, records)
    chunks = chunk_document(doc, max_tokens=320)
    check_chunks(doc, chunks, max_tokens=320)
    assert [c.metadata["kind"] for c in chunks] == ["faq"] * 3
    assert [c.metadata["question"] for c in chunks] == [r.question for r in records]
    assert chunks[0].metadata["section"] == "常见问题"
    assert chunks[1].page_content == "Q: 支持英文吗？\nA: 支持，中文优先。\n\n也可以混合。"
    assert extract_faq_records(doc) == list(records)


# --- coverage invariant and speed ---------------------------------------------------------------


def test_cmrc_paragraphs_are_covered() -> None:
    # How fast is `python -m benchmarks.index_bench`'s to say: a timed assert on a shared machine
    # fails for the load, not for the code.
    paragraphs = cmrc_paragraphs()
    docs = [doc_of(p, fmt="text", name=f"cmrc/{i}") for i, p in enumerate(paragraphs)]
    results = [chunk_document(doc, max_tokens=320) for doc in docs]
    assert len(docs) == 256
    for doc, chunks in zip(docs, results, strict=True):
        check_chunks(doc, chunks, max_tokens=320)


CJK = "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能"


def test_megabyte_single_line() -> None:
    rng = random.Random(3)
    text = "".join(rng.choice(CJK) for _ in range(1_000_000))
    doc = doc_of(text, fmt="text")
    count_tokens("warm up")
    started = time.perf_counter()
    chunks = chunk_document(doc, max_tokens=320)
    assert time.perf_counter() - started < 8
    check_chunks(doc, chunks)
    assert all(count_tokens(c.page_content) <= 320 for c in chunks[:: len(chunks) // 50])


def random_document(rng: random.Random) -> LoadedDocument:
    """Chinese, English and mixed text with random headings, lists, code, FAQ lines, sentences
    of any length and stretches without punctuation."""
    words = ["模型", "数据", "训练", "AI", "GPT-3.5", "large", "model", "e.g.", "3.5", "的", "and"]
    ends = ["。", "！", "？", "；", "……", ".", "!", "?", "", "", "，", "”", "）"]

    def sentence() -> str:
        size = rng.choice([1, 3, 8, 20, 200])
        joiner = rng.choice(["", " "])
        return joiner.join(rng.choice(words) for _ in range(size)) + rng.choice(ends)

    lines: list[str] = []
    if rng.random() < 0.2:
        lines += ["---", "title: x", "---"]
    for _ in range(rng.randint(0, 40)):
        kind = rng.random()
        if kind < 0.15:
            lines.append(
                "#" * rng.randint(1, 6)
                + " "
                + rng.choice(["常见问题", "Intro", "方法", "2.1 模型"])
            )
        elif kind < 0.25:
            lines.append(
                rng.choice(["一、概述", "（二）细节", "第三章 结果", "1.2 数据", "3、小结"])
            )
        elif kind < 0.3:
            lines += ["Q: " + sentence(), "A: " + sentence()]
        elif kind < 0.35:
            lines += ["```", sentence(), "# inside code", "```"]
        elif kind < 0.4:
            lines.append("".join(rng.choice(CJK) for _ in range(rng.randint(500, 3000))))
        elif kind < 0.45:
            lines.append("")
        else:
            lines.append(
                ("- " if rng.random() < 0.2 else "") + "".join(sentence() for _ in range(3))
            )
    separator = rng.choice(["\n", "\n\n", "\n \n"])
    return doc_of(separator.join(lines), fmt=rng.choice(["markdown", "text"]))


@pytest.mark.parametrize("seed", range(40))
def test_random_documents_keep_the_invariant(seed: int) -> None:
    rng = random.Random(seed)
    doc = random_document(rng)
    max_tokens = rng.choice([16, 24, 48, 100, 320])
    limit = rng.choice([None, 60, 150])

    def fits(text: str) -> bool:
        return limit is None or len(text) <= limit

    chunks = chunk_document(
        doc,
        max_tokens=max_tokens,
        min_tokens=rng.choice([0, 10, 40]),
        overlap_sentences=rng.choice([0, 1, 2]),
        fits=fits,
    )
    check_chunks(doc, chunks, max_tokens=max_tokens, fits=fits)
    assert chunks or not doc.text[front_matter_end(doc.text, doc.format) :].strip()
