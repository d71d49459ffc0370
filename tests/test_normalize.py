"""normalize_text: the one form every document is stored in (reliability item 3)."""

from __future__ import annotations

import time

import pytest

from index.normalize import normalize_text

pytestmark = pytest.mark.unit


def test_leading_boms_are_stripped_but_text_is_kept() -> None:
    assert normalize_text("\ufeff\ufeff大模型") == "大模型"


def test_line_ends_become_lf() -> None:
    assert normalize_text("一\r\n二\r三\n四") == "一\n二\n三\n四"
    assert normalize_text("a\u2028b\u2029c") == "a\nb\nc"


def test_page_breaks_keep_words_apart() -> None:
    # A form feed between PDF pages must not glue the last word of one page to the next.
    assert normalize_text("end\x0cstart") == "end\nstart"


def test_nul_and_control_characters_are_removed_tab_and_newline_kept() -> None:
    text = "a\x00b\x01c\x1bd\x7fe\x9ff\tg\nh"
    assert normalize_text(text) == "abcdef\tg\nh"


def test_lone_surrogates_are_dropped_and_result_encodes_as_utf8() -> None:
    result = normalize_text("前\ud800后\udfff!")
    assert result == "前后!"
    result.encode("utf-8")  # would raise on a surrogate


def test_nfc_composes_but_full_width_punctuation_is_kept() -> None:
    assert normalize_text("e\u0301") == "\u00e9"
    chinese = "定义：检索增强生成（RAG），即先检索、再生成。ＡＢＣ１２３"
    assert normalize_text(chinese) == chinese


def test_clean_text_is_unchanged_and_normalising_twice_changes_nothing() -> None:
    clean = "# 第一章 概述\n\n大模型（LLM）是……\tEnd."
    assert normalize_text(clean) == clean
    messy = "\ufeff标题\r\n\x00正文\ud800\u2028结束"
    once = normalize_text(messy)
    assert normalize_text(once) == once == "标题\n正文\n结束"


def test_fifty_megabytes_is_fast() -> None:
    line = "大模型综述，检索增强生成。Hello world\r\n"
    text = line * (50_000_000 // len(line)) + "\x00tail"
    started = time.perf_counter()
    result = normalize_text(text)
    elapsed = time.perf_counter() - started
    assert result.endswith("\ntail")
    assert "\r" not in result
    assert elapsed < 5.0, f"normalize_text took {elapsed:.1f} s on 50 MB"
