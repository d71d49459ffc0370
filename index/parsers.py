"""PDF, DOCX and HTML parsers, run in a worker process (index/parse_worker.py) that is killed
when it overruns its time limit.

PDF libraries in particular have known infinite-loop and memory-blowup bugs, and a thread cannot be
stopped. The worker returns plain strings, so a library's exception (possibly unpicklable) never
crosses into the caller; ``index.loaders`` checks the file before a parser sees it.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import selectors
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from .errors import DocumentError
from .text_decoding import decode_text, file_error


class _ParserProcess:
    """One worker process (``python -P -m index.parse_worker``), started on first use and reused
    across files (starting Python and importing the parsers per file would cost far more than the
    parse), killed and forgotten when a parse overruns its time limit or after ``MAX_JOBS``
    files (a parser's leaks stay bounded); the next file starts a fresh one.

    A process of its own rather than a multiprocessing pool: those start their workers by
    re-running the caller's main module, so a user's script that indexes at top level (without
    ``if __name__ == "__main__":``) ran itself again in the worker and every PDF, DOCX or HTML
    file failed or waited out its time limit. ``-P``: a folder named ``index`` in the working
    directory is not imported instead of this package.
    """

    MAX_JOBS = 200

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._proc: subprocess.Popen | None = None
        self._owner_pid = 0
        self._jobs = 0

    @property
    def pid(self) -> int | None:
        """The worker's process id while one runs (tests check that a timeout really stops it)."""
        proc = self._proc
        return proc.pid if proc is not None and proc.poll() is None else None

    def run(self, fmt: str, path: Path, name: str, timeout_s: float) -> tuple[str, str]:
        request = json.dumps({"fmt": fmt, "path": str(path), "name": name}) + "\n"
        # One file at a time, as one worker can: a caller waits at most one time limit per
        # file ahead of it.
        with self._lock:
            try:
                proc = self._process()
                proc.stdin.write(request.encode())
                proc.stdin.flush()
            except OSError as exc:  # no processes left, or the worker died between files
                self._stop()
                raise file_error(
                    name, f"the parser process could not be started ({type(exc).__name__}); retry"
                ) from None
            reply = _read_line(proc, timeout_s)
            if reply is None:
                self._stop()  # really stops the worker, even inside a C extension
                raise file_error(
                    name,
                    f"it took longer than {timeout_s:g} s to parse; split it into smaller files "
                    "or raise ASSISTANT_PARSE_TIMEOUT_S",
                )
            if not reply:  # the worker died in the parse (a crash in a C extension, OOM)
                self._stop()
                return "failed", "the parser process stopped"
            self._jobs += 1
            if self._jobs >= self.MAX_JOBS:
                self._stop()
            answer = json.loads(reply)
            return answer["status"], answer["payload"]

    def _process(self) -> subprocess.Popen:
        if self._proc is None or self._proc.poll() is not None or self._owner_pid != os.getpid():
            # (a fork inherits the pipes of its parent's worker: it starts its own)
            self._proc = subprocess.Popen(
                [sys.executable, "-P", "-m", "index.parse_worker"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                bufsize=0,
            )
            self._owner_pid = os.getpid()
            self._jobs = 0
        return self._proc

    def _stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None and self._owner_pid == os.getpid():
            proc.kill()
            # (in uninterruptible sleep it goes when the kernel is done with it)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=5)
            for stream in (proc.stdin, proc.stdout):
                stream.close()


def _read_line(proc: subprocess.Popen, timeout_s: float) -> bytes | None:
    """One reply line from the worker: None when ``timeout_s`` passes first, b"" when the worker
    has exited."""
    deadline = time.monotonic() + timeout_s
    buffer = bytearray()
    fd = proc.stdout.fileno()
    with selectors.DefaultSelector() as selector:
        selector.register(fd, selectors.EVENT_READ)
        while not buffer.endswith(b"\n"):
            left = deadline - time.monotonic()
            if left <= 0 or not selector.select(left):
                return None
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                return b""
            buffer += chunk
    return bytes(buffer)


PARSER_PROCESS = _ParserProcess()  # holds no process until the first PDF, DOCX or HTML file


def parse_in_subprocess(fmt: str, path: Path, name: str, timeout_s: float) -> str:
    status, payload = PARSER_PROCESS.run(fmt, path, name, timeout_s)
    if status == "ok":
        return payload
    if status == "error":
        raise DocumentError(payload)
    repair = {
        "pdf": "download or export it again",
        "docx": "open it in Word and save it again",
        "html": "save the page again or as text",
    }[fmt]
    raise file_error(name, f"the {fmt.upper()} file is damaged or unreadable; {repair}")


def parse_job(fmt: str, path: str, name: str) -> tuple[str, str]:
    """Runs in the worker: returns ("ok", text), ("error", message) or ("failed", exception
    type), so a library's exception (possibly unpicklable) never crosses into the caller."""
    import logging
    import warnings

    warnings.simplefilter("ignore")
    logging.disable(logging.WARNING)  # pypdf logs every recoverable defect
    try:
        return "ok", _PARSERS[fmt](Path(path).read_bytes(), name)
    except DocumentError as exc:
        return "error", str(exc)
    except Exception as exc:  # anything raised by a parser means "unreadable"
        return "failed", type(exc).__name__


def _parse_pdf(data: bytes, name: str) -> str:
    """Text of each page, pages separated by a blank line."""
    import pypdf

    if b"%%EOF" not in data[-8192:]:
        raise file_error(name, "the PDF is truncated or incomplete; download or export it again")
    reader = pypdf.PdfReader(io.BytesIO(data), strict=False)
    if reader.is_encrypted:
        try:
            opened = reader.decrypt("")  # "owner password only" PDFs open without one
        except Exception:  # an unsupported cipher (AES without cryptography) is just as locked
            opened = 0
        if not opened:
            raise file_error(name, "the PDF is password-protected; save an unprotected copy")
    pages = (page.extract_text() or "" for page in reader.pages)
    return "\n\n".join(text.strip() for text in pages if text.strip())


def _parse_docx(data: bytes, name: str) -> str:
    """Paragraphs and tables in document order; heading styles become Markdown headings so the
    chunker can build section paths."""
    import docx
    from docx.table import Table

    blocks: list[str] = []
    for block in docx.Document(io.BytesIO(data)).iter_inner_content():
        if isinstance(block, Table):
            rows = []
            for row in block.rows:
                cells: list[str] = []
                for cell in row.cells:  # a merged cell is repeated once per grid column
                    text = " ".join(cell.text.split())
                    if not cells or text != cells[-1]:
                        cells.append(text)
                rows.append(" | ".join(cells))
            blocks.append("\n".join(r for r in rows if r.strip(" |")))
            continue
        text = block.text.strip()
        style = block.style.name if block.style is not None else ""
        level = 1 if style == "Title" else _heading_level(style)
        blocks.append(f"{'#' * level} {text}" if level and text else text)
    return "\n\n".join(b for b in blocks if b)


def _heading_level(style: str) -> int:
    match = re.fullmatch(r"Heading ([1-9])", style or "")
    return min(int(match.group(1)), 6) if match else 0


_BLOCK_TAGS = (
    "p", "div", "section", "article", "main", "header", "footer", "aside", "blockquote", "pre",
    "table", "ul", "ol", "dl", "figure", "figcaption", "form", "hr", "address", "details",
)  # fmt: skip
_LINE_TAGS = ("li", "tr", "dt", "dd", "caption", "summary", "br")
_DROP_TAGS = ("script", "style", "nav", "noscript", "template", "iframe", "object", "svg", "head")


MAX_HTML_DEPTH = 512  # real pages nest a few dozen levels; the tree walks below are recursive
_TAG = re.compile(r"<(/?)([A-Za-z][\w:-]*)[^>]*?(/?)>")
_VOID_TAGS = frozenset(
    "area base br col embed hr img input link meta param source track wbr".split()
)


def html_depth(markup: str, limit: int = MAX_HTML_DEPTH) -> int:
    """How deep the elements nest (a quick scan of the tags, stopping past ``limit``)."""
    depth = deepest = 0
    for match in _TAG.finditer(markup):
        closing, tag, self_closing = match.groups()
        if closing:
            depth = max(depth - 1, 0)
        elif not self_closing and tag.lower() not in _VOID_TAGS:
            depth += 1
            deepest = max(deepest, depth)
            if deepest > limit:
                break
    return deepest


def _parse_html(data: bytes, name: str) -> str:
    """Visible text with headings as Markdown heading lines and each block on its own line."""
    from bs4 import BeautifulSoup, Comment, NavigableString

    from .hidden_text import hidden_element

    markup = decode_text(data, name)
    if html_depth(markup) > MAX_HTML_DEPTH:  # refused at once, not after the parse time limit
        raise file_error(
            name,
            f"its elements nest over {MAX_HTML_DEPTH} levels deep, which no real page does; "
            "save the page's text instead",
        )
    soup = BeautifulSoup(markup, "lxml")
    title = " ".join(soup.title.get_text().split()) if soup.title else ""
    for tag in soup(_DROP_TAGS):
        tag.decompose()
    for tag in soup.find_all(lambda t: hidden_element(t.attrs)):  # display:none and the like
        tag.decompose()
    for comment in soup.find_all(string=lambda s: isinstance(s, Comment)):
        comment.extract()
    for string in soup.find_all(string=True):  # source line breaks are spaces in HTML
        # Exact type: a doctype or CDATA section turned into plain text would show up as text.
        if type(string) is NavigableString and string.find_parent("pre") is None:
            string.replace_with(re.sub(r"\s+", " ", str(string)))
    has_h1 = soup.find("h1") is not None
    for heading in soup.find_all(re.compile(r"^h[1-6]$")):
        text = " ".join(heading.get_text().split())
        heading.replace_with(f"\n\n{'#' * int(heading.name[1])} {text}\n\n" if text else "")
    for row in soup.find_all("tr"):
        for cell in row.find_all(["td", "th"], recursive=False)[:-1]:
            cell.insert_after(" | ")
    for tag in soup.find_all(_LINE_TAGS):  # what follows a list or table is a block anyway
        tag.insert_before("\n- " if tag.name == "li" else "\n")
    for tag in soup.find_all(_BLOCK_TAGS):
        tag.insert_before("\n\n")
        tag.insert_after("\n\n")
    lines = [line.strip() for line in soup.get_text().split("\n")]
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
    return f"# {title}\n\n{text}" if title and not has_h1 else text


_PARSERS: dict[str, Callable[[bytes, str], str]] = {
    "pdf": _parse_pdf,
    "docx": _parse_docx,
    "html": _parse_html,
}
