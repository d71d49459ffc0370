"""Finding documents on disk and turning each file into a normalised ``LoadedDocument``.

Every problem with one file becomes a ``DocumentError`` with one sentence naming the file, so a
batch can report it and go on. The type of a file is decided by its content as well as its suffix
(a PNG renamed ``.md`` is refused, not indexed as garbage). PDF, DOCX and HTML parsers run in a
child process that is killed when it overruns the time limit: PDF libraries in particular have
known infinite-loop and memory-blowup bugs, and a thread cannot be stopped (``index.parsers``).
"""

from __future__ import annotations

import csv
import io
import json
import os
import stat
import zipfile
from collections.abc import Sequence
from pathlib import Path

from index.documents import FAQRecord, LoadedDocument
from index.hidden_text import strip_hidden_markup
from index.normalize import normalize_text

from .errors import DocumentError
from .text_decoding import decode_text, file_error

_FORMATS = {  # suffix -> LoadedDocument.format
    ".md": "markdown",
    ".markdown": "markdown",
    ".txt": "text",
    ".html": "html",
    ".htm": "html",
    ".pdf": "pdf",
    ".docx": "docx",
    ".jsonl": "faq",
    ".csv": "faq",
}
SUPPORTED_SUFFIXES: tuple[str, ...] = tuple(_FORMATS)
_NOINDEX_MARKER = ".noindex"
_MAX_DOCX_UNPACKED = 512 * 1024 * 1024  # a zip bomb is refused before python-docx inflates it

# Signatures of binary formats that users rename by mistake (a screenshot saved as notes.md).
_BINARY_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"%PDF-", "a PDF"),
    (b"PK\x03\x04", "a ZIP archive (or an Office file)"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an old Microsoft Office file"),
    (b"\x1f\x8b\x08", "a gzip archive"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"Rar!\x1a\x07", "a RAR archive"),
    (b"\x7fELF", "a program"),
)
_FAQ_COLUMNS = (("question", "问题", "问"), ("answer", "答案", "答", "回答"))


# --- finding files ---------------------------------------------------------------------------


def discover_files(
    paths: Sequence[Path], *, follow_links: bool = False
) -> tuple[list[Path], list[tuple[str, str]]]:
    """Expand folders into the supported files below them, in a stable sorted order, and list
    what was refused as (name, one sentence).

    Inside a folder only regular files are taken whose real path (links resolved) lies inside
    that folder: a link to a file or folder outside it (``ln -s /etc/passwd notes.md``) is
    refused unless ``follow_links``, and so is a pipe, device or socket. A file named directly
    was chosen by the user and is taken wherever it points, if it is a regular file. Hidden
    entries are skipped (editor and VCS clutter), and so is any folder holding a ``.noindex``
    file: the corpus keeps its evaluation questions there, and indexing them would let the
    evaluation answer itself. The paths returned are real paths (links resolved), so what is
    read is what was checked.
    """
    found: dict[Path, None] = {}
    refused: list[tuple[str, str]] = []
    for path in paths:
        if not path.exists():
            raise DocumentError(f"{path} does not exist; check the path and try again.")
        if path.is_dir():
            files, skipped = _walk(path.resolve(), follow_links)
            found.update(dict.fromkeys(files))
            refused += skipped
        elif path.suffix.lower() not in _FORMATS:
            raise DocumentError(
                f"{path} is not a supported file type "
                f"(supported: {', '.join(SUPPORTED_SUFFIXES)}); convert it or leave it out."
            )
        else:
            found[path.resolve()] = None
    return list(found), refused


def is_inside(path: Path, root: Path) -> bool:
    """``path`` is ``root`` or below it (both already resolved)."""
    return path == root or root in path.parents


def _walk(root: Path, follow_links: bool) -> tuple[list[Path], list[tuple[str, str]]]:
    files: list[Path] = []
    refused: list[tuple[str, str]] = []
    seen: set[Path] = {root}

    def refuse(path: Path, problem: str) -> None:
        name = path.relative_to(root).as_posix()
        refused.append((name, f"Cannot index '{name}': {problem}."))

    outside = "it is a link to a {} outside the folder given; copy it in, or pass --follow-links"
    for folder, dirnames, filenames in os.walk(root, followlinks=follow_links):
        if _NOINDEX_MARKER in filenames:
            dirnames.clear()
            continue
        kept = []
        for dirname in sorted(d for d in dirnames if not d.startswith(".")):
            path = Path(folder, dirname)
            real = path.resolve()
            if path.is_symlink() and not follow_links:
                if not is_inside(real, root):  # a link inside the folder is walked anyway
                    refuse(path, outside.format("folder"))
                continue
            if real not in seen:  # followed links can loop
                seen.add(real)
                kept.append(dirname)
        dirnames[:] = kept
        for filename in sorted(filenames):
            path = Path(folder, filename)
            if filename.startswith(".") or path.suffix.lower() not in _FORMATS:
                continue
            try:
                real = path.resolve(strict=True)
                mode = real.stat().st_mode
            except OSError:
                refuse(path, "it is a link to nothing (its target is missing); fix or remove it")
                continue
            if not follow_links and not is_inside(real, root):
                refuse(path, outside.format("file"))
            elif not stat.S_ISREG(mode):
                refuse(path, "it is not a regular file (a pipe, device or socket); leave it out")
            else:
                files.append(real)
    return files, refused


# --- loading one file ------------------------------------------------------------------------


def load_file(
    path: Path, *, name: str | None = None, max_bytes: int, timeout_s: float
) -> LoadedDocument:
    """Read, parse and normalise one file; every failure is a one-sentence ``DocumentError``."""
    name = name or path.name
    fmt = _FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise file_error(
            name,
            f"it is not a supported file type (supported: {', '.join(SUPPORTED_SUFFIXES)})",
        )
    _check_size(path, name, max_bytes)
    records: tuple[FAQRecord, ...] = ()
    if fmt in ("pdf", "docx", "html"):
        _check_content_type(path, fmt, name)
        # Imported here: the parsers pull in PDF, DOCX and HTML libraries, needed only for them.
        from index.parsers import parse_in_subprocess

        text = parse_in_subprocess(fmt, path, name, timeout_s)
    else:
        data = _read(path, name, max_bytes)
        _reject_binary(data, name)
        decoded = decode_text(data, name)
        if fmt == "faq":
            records = _parse_faq(decoded, path.suffix.lower(), name)
            text = "\n\n".join(f"Q: {r.question}\nA: {r.answer}" for r in records)
        else:
            # Raw HTML in Markdown renders: what it hides is not the document's visible text.
            text = strip_hidden_markup(decoded) if fmt == "markdown" else decoded
    text = normalize_text(text)
    if not text.strip():
        hint = "; it may be a scanned image, so run OCR on it first" if fmt == "pdf" else ""
        raise file_error(name, f"it contains no text{hint}")
    return LoadedDocument(name=name, source=str(path), format=fmt, text=text, faq_records=records)


def _check_size(path: Path, name: str, max_bytes: int) -> None:
    """Refuse by ``stat`` before reading anything, so a huge file costs nothing."""
    try:
        info = path.stat()
    except FileNotFoundError:
        raise file_error(name, "the file does not exist; check the path") from None
    except OSError as exc:
        raise file_error(name, f"the file cannot be read ({exc.strerror}); check it") from None
    if stat.S_ISDIR(info.st_mode):
        raise file_error(name, "it is a folder, not a file; pass the folder to index instead")
    if not stat.S_ISREG(info.st_mode):
        raise file_error(name, "it is not a regular file; copy its content into a file")
    if info.st_size == 0:
        raise file_error(name, "the file is empty; add some text or leave it out")
    if info.st_size > max_bytes:
        raise file_error(
            name,
            f"it is {_human_size(info.st_size)}, over the {_human_size(max_bytes)} limit; "
            "split it into smaller files or raise ASSISTANT_MAX_FILE_MB",
        )


def _human_size(n: int) -> str:
    # Binary units, as the limit is ASSISTANT_MAX_FILE_MB * 1024 * 1024.
    if n < 10_240:
        return f"{n} bytes"
    if n < 1024 * 1024:
        return f"{n / 1024:.0f} KB"
    return f"{n / (1024 * 1024):.3g} MB"


def _read(path: Path, name: str, max_bytes: int) -> bytes:
    try:
        with path.open("rb") as handle:
            data = handle.read(max_bytes + 1)  # the file may have grown since stat
    except PermissionError:
        raise file_error(name, "permission denied; check the file's permissions") from None
    except OSError as exc:
        raise file_error(name, f"the file cannot be read ({exc.strerror}); check it") from None
    if len(data) > max_bytes:
        raise file_error(name, f"it is over the {_human_size(max_bytes)} limit; split it")
    return data


def _read_head(path: Path, name: str) -> bytes:
    try:
        with path.open("rb") as handle:
            return handle.read(1024)
    except OSError as exc:
        raise file_error(name, f"the file cannot be read ({exc.strerror}); check it") from None


def _describe_binary(head: bytes) -> str | None:
    return next((what for magic, what in _BINARY_MAGIC if head.startswith(magic)), None)


def _reject_binary(data: bytes, name: str) -> None:
    what = _describe_binary(data[:16])
    if what is not None:
        raise file_error(name, f"it contains {what}, not text; rename it or leave it out")


def _check_content_type(path: Path, fmt: str, name: str) -> None:
    """The suffix says PDF/DOCX/HTML; check the bytes agree before starting a parser."""
    head = _read_head(path, name) if fmt != "docx" else b""
    if fmt == "pdf" and b"%PDF-" not in head:
        what = _describe_binary(head) or "something else"
        raise file_error(name, f"it is named .pdf but is not a PDF (it looks like {what})")
    if fmt == "html":
        _reject_binary(head, name)
    if fmt == "docx":
        _check_docx_container(path, name)


def _check_docx_container(path: Path, name: str) -> None:
    not_docx = "it is not a Word .docx file; open it in Word and save it as .docx"
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
    except zipfile.BadZipFile:
        raise file_error(name, f"{not_docx} (the file is damaged or of another kind)") from None
    except (OSError, ValueError, EOFError):
        raise file_error(
            name, "the Word file is damaged; open it in Word and save it again"
        ) from None
    if not any(info.filename == "word/document.xml" for info in infos):
        raise file_error(name, not_docx)
    if sum(info.file_size for info in infos) > _MAX_DOCX_UNPACKED:
        raise file_error(name, "it unpacks to more than 512 MB; split the document")


# --- FAQ files -------------------------------------------------------------------------------


def _parse_faq(text: str, suffix: str, name: str) -> tuple[FAQRecord, ...]:
    records = _parse_faq_jsonl(text, name) if suffix == ".jsonl" else _parse_faq_csv(text, name)
    if not records:
        raise file_error(name, "it contains no question/answer records; add some or leave it out")
    return tuple(records)


def _faq_record(question: object, answer: object, name: str, line: int) -> FAQRecord:
    def clean(value: object) -> str:
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            return ""
        return normalize_text(str(value)).strip()

    q, a = clean(question), clean(answer)
    if not q or not a:
        raise file_error(name, f"line {line} needs a non-empty question and answer; fix that line")
    return FAQRecord(question=q, answer=a)


def _parse_faq_jsonl(text: str, name: str) -> list[FAQRecord]:
    # Split on LF only: U+2028 inside a JSON string is valid and must not end the line.
    records = []
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError:
            raise file_error(
                name,
                f"line {number} is not valid JSON; write one object per line like "
                f'{{"question": "…", "answer": "…"}}',
            ) from None
        if not isinstance(obj, dict):
            raise file_error(name, f"line {number} is not a JSON object with question and answer")
        records.append(_faq_record(obj.get("question"), obj.get("answer"), name, number))
    return records


def _parse_faq_csv(text: str, name: str) -> list[FAQRecord]:
    reader = csv.reader(io.StringIO(text, newline=""))
    records: list[FAQRecord] = []
    columns: tuple[int, int] | None = None
    try:
        for row in reader:
            if not any(cell.strip() for cell in row):
                continue
            if columns is None:
                columns = _faq_columns(row, name)
                continue
            q_col, a_col = columns
            q = row[q_col] if q_col < len(row) else ""
            a = row[a_col] if a_col < len(row) else ""
            records.append(_faq_record(q, a, name, reader.line_num))
    except csv.Error as exc:
        detail = " ".join(str(exc).split())
        raise file_error(
            name, f"line {reader.line_num} is not valid CSV ({detail}); fix it"
        ) from None
    return records


def _faq_columns(header: list[str], name: str) -> tuple[int, int]:
    cells = [cell.strip().lstrip("\ufeff").lower() for cell in header]
    found = [next((i for i, c in enumerate(cells) if c in names), -1) for names in _FAQ_COLUMNS]
    if -1 in found:
        raise file_error(name, "its first row must be a header with question,answer (or 问题,答案)")
    return found[0], found[1]
