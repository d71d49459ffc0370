"""Telling code from prose, line by line, in Markdown text.

Code lines carry identifiers (``BertTokenizer``, ``'bert-base-uncased'``) that match a question's
words without saying anything a reader asked about; the keyword index keeps them out of the
words it trusts, and the local model is not shown them unless the question is about code.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

FENCE = "```"
# Assignments, calls, statement ends and keywords; prose such as "自然语言处理(NLP)" is not code.
CODE_LINE = re.compile(
    r"\w\s*=\s*\S|[A-Za-z_]\w*\(|[{};]\s*$|^\s*(?:import|from|def|class|return|print)\b"
)
# A question about code: it says so, or names an identifier (max_tokens, Image.create, fn()).
# (示例 and 参数 were here for one dev item each; without them every dev and test answer of the
# local model is the same: docs/tuning.md.)
_ASKS_FOR_CODE = re.compile(
    r"代码|程序|实例|例子|样例|调用|函数|接口"
    r"|\b(?:code|codes|example|examples|snippet|script|program|function|parameter|api|call|calls)\b"
    r"|[A-Za-z]\w*_\w|[A-Za-z]\w*\.[A-Za-z_]\w*\(?|[A-Za-z_]\w*\(\)",
    re.IGNORECASE,
)


def code_flags(units: Iterable[str]) -> Iterator[bool]:
    """For each unit of a text, in document order: whether it is code (a fence line, a line
    inside a fenced block, or a code-like line). A unit of several lines is code when all of
    its lines are."""
    in_code = False
    for unit in units:
        flags = []
        for line in unit.splitlines() or [""]:
            if line.lstrip().startswith(FENCE):
                in_code = not in_code
                flags.append(True)
            else:
                flags.append(in_code or bool(CODE_LINE.search(line)))
        yield all(flags)


def prose_lines(text: str) -> Iterator[str]:
    """The lines of a text that are sentences: not a fence, not inside one, not code-like."""
    lines = text.splitlines()
    for line, is_code in zip(lines, code_flags(lines), strict=True):
        if not is_code:
            yield line


def asks_for_code(question: str) -> bool:
    return bool(_ASKS_FOR_CODE.search(question))
