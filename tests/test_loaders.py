"""File loaders on real files written by the tests: encodings, formats, limits and bad input
(reliability item 3). Every error must be a DocumentError with one line naming the file."""

from __future__ import annotations

import io
import json
import os
import random
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from assistant.errors import DocumentError
from index.documents import FAQRecord, LoadedDocument
from index.loaders import SUPPORTED_SUFFIXES, discover_files, load_file

pytestmark = pytest.mark.unit

LIMIT = 10 * 1024 * 1024
ZH = "大模型综述：检索增强生成（RAG）先检索，再生成。"


def load(path: Path, **kwargs: object) -> LoadedDocument:
    options: dict = {"max_bytes": LIMIT, "timeout_s": 60.0} | kwargs
    return load_file(path, **options)


def load_error(path: Path, name: str | None = None, **kwargs: object) -> str:
    """Load a file that must fail; check the message is one clear line naming the file."""
    with pytest.raises(DocumentError) as excinfo:
        load(path, **kwargs)
    message = str(excinfo.value)
    assert (name or path.name) in message
    assert "\n" not in message and "Traceback" not in message
    return message


def write(tmp_path: Path, filename: str, data: bytes) -> Path:
    path = tmp_path / filename
    path.write_bytes(data)
    return path


def make_pdf(lines: list[str], *, font: str = "STSong-Light") -> bytes:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer)
    for line in lines:
        pdf.setFont(font, 14)
        pdf.drawString(72, 720, line)
        pdf.showPage()
    pdf.save()
    return buffer.getvalue()


# --- text files and encodings ----------------------------------------------------------------


def test_markdown_with_chinese(tmp_path: Path) -> None:
    text = f"# 第一章 概述\n\n{ZH}\n"
    doc = load(write(tmp_path, "intro.md", text.encode()))
    assert (doc.name, doc.format, doc.text) == ("intro.md", "markdown", text)
    assert doc.source == str(tmp_path / "intro.md")
    assert doc.faq_records == ()
    assert load(tmp_path / "intro.md", name="docs/intro.md").name == "docs/intro.md"


def test_utf8_bom_and_crlf(tmp_path: Path) -> None:
    doc = load(write(tmp_path, "notes.txt", b"\xef\xbb\xbf" + f"标题\r\n{ZH}\r\n".encode()))
    assert doc.format == "text"
    assert doc.text == f"标题\n{ZH}\n"


@pytest.mark.parametrize("encoding", ["gbk", "gb18030"])
def test_chinese_legacy_encodings(tmp_path: Path, encoding: str) -> None:
    text = f"# 第二章 方法\n\n{ZH}\n表格：模型、参数、数据集。\n"
    assert load(write(tmp_path, "legacy.md", text.encode(encoding))).text == text


def test_gb18030_only_characters_and_mostly_ascii_gbk(tmp_path: Path) -> None:
    rare = "罕见字：𠀀𪚥，欧元符号€。"  # outside GBK: needs GB18030 proper
    assert load(write(tmp_path, "rare.txt", rare.encode("gb18030"))).text == rare
    # A long English file with one Chinese word in GBK must not be read as damaged UTF-8.
    mostly_ascii = "Retrieval-augmented generation (RAG) works well.\n" * 40 + "检索增强\n"
    assert load(write(tmp_path, "mixed.txt", mostly_ascii.encode("gbk"))).text == mostly_ascii


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be", "utf-16-le"])
def test_utf16_with_bom(tmp_path: Path, encoding: str) -> None:
    bom = {"utf-16": b"", "utf-16-be": b"\xfe\xff", "utf-16-le": b"\xff\xfe"}[encoding]
    path = write(tmp_path, "wide.md", bom + f"# 标题\n{ZH}".encode(encoding))
    assert load(path).text == f"# 标题\n{ZH}"


def test_nul_bytes_are_removed(tmp_path: Path) -> None:
    data = f"{ZH}\x00第二句。\x00\n".encode()
    assert load(write(tmp_path, "nul.txt", data)).text == f"{ZH}第二句。\n"


def test_a_file_full_of_nul_bytes_is_named_for_them(tmp_path: Path) -> None:
    """Not "the encoding could not be recognised": what is wrong is the NUL bytes."""
    data = ("正文" + "\x00" * 30 + "。").encode() * 40
    message = load_error(write(tmp_path, "nuls.md", data))
    assert "NUL bytes" in message and "nuls.md" in message and "\n" not in message


def test_lone_surrogates_and_stray_bytes_are_dropped(tmp_path: Path) -> None:
    data = f"{ZH * 3}\ud800{ZH}".encode("utf-8", "surrogatepass")
    assert load(write(tmp_path, "surrogate.md", data)).text == ZH * 4
    stray = f"{ZH * 3}".encode() + b"\xff\xfe\x80" + "结尾。".encode()
    assert load(write(tmp_path, "stray.md", stray)).text == ZH * 3 + "结尾。"


def test_png_named_md_is_refused(tmp_path: Path) -> None:
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4
    assert "PNG image" in load_error(write(tmp_path, "screenshot.md", png))


def test_zip_named_txt_is_refused(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("a.txt", "hello")
    assert "ZIP" in load_error(write(tmp_path, "archive.txt", buffer.getvalue()))


def test_random_bytes_are_refused(tmp_path: Path) -> None:
    noise = random.Random(7).randbytes(8192)
    assert "UTF-8" in load_error(write(tmp_path, "noise.txt", noise))
    control_bytes = bytes(range(1, 32)) * 100  # valid UTF-8, but not text
    assert "binary" in load_error(write(tmp_path, "controls.md", control_bytes))


def test_empty_and_whitespace_only_files(tmp_path: Path) -> None:
    assert "empty" in load_error(write(tmp_path, "empty.md", b""))
    assert "no text" in load_error(write(tmp_path, "blank.txt", b"  \r\n\t\n \xe3\x80\x80\n"))


def test_missing_file_folder_and_unsupported_suffix(tmp_path: Path) -> None:
    assert "does not exist" in load_error(tmp_path / "gone.md")
    (tmp_path / "folder.md").mkdir()
    assert "folder" in load_error(tmp_path / "folder.md")
    assert "supported" in load_error(write(tmp_path, "sheet.xlsx", b"data"))


def test_file_over_the_limit(tmp_path: Path) -> None:
    path = write(tmp_path, "big.md", "正文".encode() * 100)
    message = load_error(path, max_bytes=100)
    assert "100 bytes" in message and "ASSISTANT_MAX_FILE_MB" in message


def test_fifty_megabyte_file_is_refused_by_size_without_reading(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "huge.md"
    with path.open("wb") as handle:
        handle.truncate(50 * 1024 * 1024)  # sparse: costs no disk and no write time

    def no_reading(*args: object, **kwargs: object) -> None:
        raise AssertionError("the file was opened")

    monkeypatch.setattr(Path, "open", no_reading)
    monkeypatch.setattr(Path, "read_bytes", no_reading)
    started = time.perf_counter()
    message = load_error(path, max_bytes=20 * 1024 * 1024)
    assert time.perf_counter() - started < 0.5
    assert "50 MB" in message and "20 MB" in message


# --- HTML ------------------------------------------------------------------------------------

HTML = """<!doctype html><html><head><title>页面标题</title>
<style>body { color: red }</style><script>var secret = "SCRIPT-TEXT";</script></head>
<body><nav>首页 | 关于</nav>
<h2>第一节 背景</h2><p>大模型<b>综述</b>，
  第一段。</p>
<ul><li>要点一</li><li>要点二</li></ul>
<h3>1.1 细节</h3><div>第二段<br>换行后</div>
<table><tr><th>模型</th><th>参数</th></tr><tr><td>GPT</td><td>175B</td></tr></table>
<noscript>NOSCRIPT-TEXT</noscript><!-- COMMENT-TEXT --></body></html>"""


def test_html_headings_blocks_and_no_script(tmp_path: Path) -> None:
    doc = load(write(tmp_path, "page.html", HTML.encode()))
    assert doc.format == "html"
    # The title stands in for a missing h1; "大模型综述， 第一段。" keeps the space HTML shows
    # for the source line break; no line comes from the doctype.
    assert doc.text == (
        "# 页面标题\n\n## 第一节 背景\n\n大模型综述， 第一段。\n\n- 要点一\n- 要点二\n\n"
        "### 1.1 细节\n\n第二段\n换行后\n\n模型 | 参数\nGPT | 175B"
    )
    for hidden in ["SCRIPT-TEXT", "color: red", "首页", "NOSCRIPT-TEXT", "COMMENT-TEXT"]:
        assert hidden not in doc.text


def test_html_in_gbk_with_h1_keeps_no_title_line(tmp_path: Path) -> None:
    html = f"<html><head><title>T</title></head><body><h1>总标题</h1><p>{ZH}</p></body></html>"
    doc = load(write(tmp_path, "old.htm", html.encode("gbk")))
    assert doc.text == f"# 总标题\n\n{ZH}"


# --- PDF -------------------------------------------------------------------------------------


def test_pdf_with_chinese_text(tmp_path: Path) -> None:
    path = write(tmp_path, "survey.pdf", make_pdf([ZH, "第二页：评测方法。"]))
    doc = load(path)
    assert doc.format == "pdf"
    assert doc.text == f"{ZH}\n\n第二页：评测方法。"


def test_truncated_pdf(tmp_path: Path) -> None:
    data = make_pdf([ZH])
    message = load_error(write(tmp_path, "cut.pdf", data[: len(data) // 2]))
    assert "truncated" in message


def test_encrypted_pdf(tmp_path: Path) -> None:
    import pypdf

    writer = pypdf.PdfWriter(clone_from=io.BytesIO(make_pdf([ZH])))
    writer.encrypt("secret", algorithm="RC4-128")
    buffer = io.BytesIO()
    writer.write(buffer)
    assert "password" in load_error(write(tmp_path, "locked.pdf", buffer.getvalue()))


def test_pdf_suffix_on_other_content(tmp_path: Path) -> None:
    message = load_error(write(tmp_path, "fake.pdf", "这不是 PDF".encode()))
    assert "not a PDF" in message


def test_pdf_without_text(tmp_path: Path) -> None:
    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer)
    pdf.rect(100, 100, 200, 200, fill=1)  # a drawing, no text: like a scanned page
    pdf.save()
    assert "OCR" in load_error(write(tmp_path, "scan.pdf", buffer.getvalue()))


def test_parse_timeout_then_next_file_still_loads(tmp_path: Path) -> None:
    from index.parsers import PARSER_PROCESS

    path = write(tmp_path, "slow.pdf", make_pdf([ZH] * 30))
    load(path)
    worker = PARSER_PROCESS.pid
    assert worker is not None
    assert "longer than" in load_error(path, timeout_s=0.0001)
    assert PARSER_PROCESS.pid is None  # the parser process was really stopped
    with pytest.raises(ProcessLookupError):
        os.kill(worker, 0)
    started = time.perf_counter()
    assert load(path).text.startswith(ZH)
    assert time.perf_counter() - started < 10.0


def test_a_script_without_a_main_guard_can_parse(tmp_path: Path) -> None:
    """A user's script that loads an HTML file at top level: the parser worker must not run the
    script again (a multiprocessing pool did, and every such file failed)."""
    page = tmp_path / "page.html"
    page.write_text("<html><body><p>竹编博物馆于2011年开馆。</p></body></html>", encoding="utf-8")
    script = tmp_path / "user_script.py"
    script.write_text(
        "from pathlib import Path\n"
        "from index.loaders import load_file\n"
        f"doc = load_file(Path({str(page)!r}), max_bytes=10**6, timeout_s=20)\n"
        "print('loaded:', doc.text.strip())\n",
        encoding="utf-8",
    )
    run = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=60, cwd=tmp_path
    )
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.splitlines() == ["loaded: 竹编博物馆于2011年开馆。"]


def test_small_pdf_overhead_once_warm(tmp_path: Path) -> None:
    path = write(tmp_path, "small.pdf", make_pdf([ZH]))
    load(path)
    started = time.perf_counter()
    load(path)
    assert time.perf_counter() - started < 0.5


# --- DOCX ------------------------------------------------------------------------------------


def test_docx_headings_paragraphs_and_table(tmp_path: Path) -> None:
    import docx

    document = docx.Document()
    document.add_heading("综述标题", level=0)
    document.add_heading("第一章 背景", level=1)
    document.add_paragraph(ZH)
    table = document.add_table(rows=2, cols=2)
    for row, cells in zip(table.rows, [("模型", "参数"), ("GPT", "175B")], strict=True):
        for cell, value in zip(row.cells, cells, strict=True):
            cell.text = value
    document.add_heading("1.1 方法", level=2)
    document.add_paragraph("结尾段落。")
    path = tmp_path / "report.docx"
    document.save(str(path))

    doc = load(path)
    assert doc.format == "docx"
    table_text = "模型 | 参数\nGPT | 175B"
    assert doc.text == (
        f"# 综述标题\n\n# 第一章 背景\n\n{ZH}\n\n{table_text}\n\n## 1.1 方法\n\n结尾段落。"
    )


def test_corrupt_docx(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "garbage <<<")
        archive.writestr("word/document.xml", b"\x00\x01 not xml at all")
    assert "damaged" in load_error(write(tmp_path, "broken.docx", buffer.getvalue()))


def test_docx_suffix_on_other_content(tmp_path: Path) -> None:
    assert "not a Word" in load_error(write(tmp_path, "notes.docx", "纯文本".encode()))
    truncated = write(tmp_path, "half.docx", b"PK\x03\x04" + b"\x00" * 40)
    assert "Word" in load_error(truncated)


# --- FAQ files -------------------------------------------------------------------------------


def test_faq_jsonl(tmp_path: Path) -> None:
    lines = [
        json.dumps({"question": "什么是RAG？", "answer": "检索增强生成。", "id": 1}),
        "",
        json.dumps({"question": "Why chunk?", "answer": "To fit\u2028the context."}),
        "   ",
    ]
    doc = load(write(tmp_path, "faq.jsonl", "\r\n".join(lines).encode()))
    assert doc.format == "faq"
    assert doc.faq_records == (
        FAQRecord("什么是RAG？", "检索增强生成。"),
        FAQRecord("Why chunk?", "To fit\nthe context."),
    )
    assert doc.text == "Q: 什么是RAG？\nA: 检索增强生成。\n\nQ: Why chunk?\nA: To fit\nthe context."


@pytest.mark.parametrize(
    ("header", "encoding"), [("question,answer", "utf-8-sig"), ("问题,答案", "gbk")]
)
def test_faq_csv(tmp_path: Path, header: str, encoding: str) -> None:
    rows = [header, '什么是RAG？,"检索增强生成，先检索。"', "", "What is BM25?,A ranking function."]
    text = "\r\n".join(rows) + "\r\n"
    doc = load(write(tmp_path, "faq.csv", text.encode(encoding)))
    assert doc.faq_records == (
        FAQRecord("什么是RAG？", "检索增强生成，先检索。"),
        FAQRecord("What is BM25?", "A ranking function."),
    )


def test_malformed_jsonl_names_the_line(tmp_path: Path) -> None:
    good = json.dumps({"question": "q", "answer": "a"})
    message = load_error(write(tmp_path, "bad.jsonl", f"{good}\n\n{{not json\n".encode()))
    assert "line 3" in message
    missing = write(tmp_path, "missing.jsonl", f'{good}\n{{"question": "only"}}\n'.encode())
    assert "line 2" in load_error(missing)
    assert "line 1" in load_error(write(tmp_path, "list.jsonl", b"[1, 2]\n"))


def test_malformed_csv(tmp_path: Path) -> None:
    assert "header" in load_error(write(tmp_path, "nohead.csv", b"title,body\nq,a\n"))
    short = write(tmp_path, "short.csv", b"question,answer\nq1,a1\nq2\n")
    assert "line 3" in load_error(short)
    assert "no question" in load_error(write(tmp_path, "onlyhead.csv", b"question,answer\n"))


# --- discovering files -----------------------------------------------------------------------


def test_discover_files(tmp_path: Path) -> None:
    for rel in [
        "b.md", "a.txt", "sub/z.pdf", "sub/deeper/y.docx", "sub/c.HTML", "notes.xlsx",
        ".hidden.md", ".git/config.md", "eval/questions.jsonl", "eval/.noindex", "eval/in/x.md",
    ]:  # fmt: skip
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x")
    found, refused = discover_files([tmp_path])
    names = [p.relative_to(tmp_path.resolve()).as_posix() for p in found]
    assert names == ["a.txt", "b.md", "sub/c.HTML", "sub/z.pdf", "sub/deeper/y.docx"]
    assert refused == []
    assert discover_files([tmp_path, tmp_path / "b.md"])[0] == found  # no duplicates


def test_discover_files_errors(tmp_path: Path) -> None:
    with pytest.raises(DocumentError, match="gone") as excinfo:
        discover_files([tmp_path / "gone"])
    assert "\n" not in str(excinfo.value)
    (tmp_path / "table.xlsx").write_text("x")
    with pytest.raises(DocumentError, match=r"table\.xlsx is not a supported file type"):
        discover_files([tmp_path / "table.xlsx"])
    assert ".md" in SUPPORTED_SUFFIXES and ".jsonl" in SUPPORTED_SUFFIXES


def test_import_is_light() -> None:
    code = (
        "import sys, index.loaders, index.normalize; "
        "heavy = {'pypdf', 'docx', 'bs4', 'charset_normalizer', 'lxml'} & set(sys.modules); "
        "assert not heavy, heavy"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_deeply_nested_html_is_refused_at_once(tmp_path: Path) -> None:
    """Not after the 30 s parse time limit: a quick scan of the tags refuses it."""
    import time

    nested = "<html><body>" + "<div>" * 50_000 + "深" + "</div>" * 50_000 + "</body></html>"
    path = write(tmp_path, "deep.html", nested.encode())
    started = time.perf_counter()
    message = load_error(path)
    assert time.perf_counter() - started < 5
    assert "nest over 512 levels" in message and "deep.html" in message
    shallow = (
        "<html><body>" + "<div>" * 40 + "<p>浅层页面的正文。</p>" + "</div>" * 40 + "</body></html>"
    )
    assert "浅层页面的正文" in load(write(tmp_path, "shallow.html", shallow.encode())).text
