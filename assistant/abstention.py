"""The sentence the assistant gives instead of an answer, in each language it answers in."""

from __future__ import annotations

ABSTAIN = {
    "zh": "抱歉，现有文档中没有与这个问题相关的内容，我无法据此回答。",
    "en": "Sorry, the documents do not cover this question, so I cannot answer it from them.",
}
