"""Server-side checks of uploaded files, then copying them into ``<data_dir>/uploads/`` and
indexing them incrementally.

The browser's ``file_types`` filter is a convenience, not a check: everything is checked here,
cheapest first and before any parsing of the batch: the number of files, then each file's type
by name and size by ``stat``, then its content with the same loader checks as the indexer
(``assistant.documents.check_readable``: binary content under a text name, a fake PDF, a broken
DOCX, bad encodings and parser time limits). One bad file is reported and the rest of the batch goes on.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from assistant.documents import SUPPORTED_SUFFIXES, check_readable
from assistant.errors import DocumentError, UsageError

MAX_NAME_CHARS = 120
_FORBIDDEN = set('/\\:*?"<>|')

Progress = Callable[[float, str], None]


def uploads_dir(settings) -> Path:
    return settings.data_dir / "uploads"


def safe_upload_name(original: str) -> str:
    """The file name to store an upload under: no folders, no control or path characters, no
    leading dot, at most MAX_NAME_CHARS characters (the suffix kept)."""
    name = unicodedata.normalize("NFC", str(original).replace("\\", "/").rsplit("/", 1)[-1])
    name = "".join(
        "_" if ch in _FORBIDDEN or unicodedata.category(ch)[0] == "C" else ch for ch in name
    )
    name = " ".join(name.split()).lstrip(". ")
    stem, dot, suffix = name.rpartition(".")
    if not dot:
        stem, suffix = name, ""
    suffix = suffix.lower()
    room = MAX_NAME_CHARS - len(suffix) - 1
    stem = stem[:room].rstrip(" .") or "upload"
    return f"{stem}.{suffix}" if suffix else stem


@dataclass
class UploadCheck:
    accepted: list[tuple[Path, str]] = field(default_factory=list)  # (uploaded file, stored name)
    rejected: list[str] = field(default_factory=list)  # one sentence per refused file


def check_uploads(
    files: Sequence[str | Path],
    settings,
    *,
    upload_root: Path,
    indexed_elsewhere: set[str] = frozenset(),
    progress: Progress | None = None,
) -> UploadCheck:
    """Check a batch; ``upload_root`` is the folder where Gradio keeps what clients uploaded:
    a path anywhere else (any client can send one to the endpoint) is refused before it is even
    looked at. ``indexed_elsewhere`` are document names indexed from outside the uploads folder
    (the corpus), which an upload must not silently replace."""
    files = [Path(f) for f in files or []]
    if not files:
        raise UsageError("No file was uploaded; choose one or more documents first.")
    if len(files) > settings.max_upload_files:
        raise UsageError(
            f"{len(files)} files were uploaded at once, over the limit of "
            f"{settings.max_upload_files}; upload at most {settings.max_upload_files} at a time."
        )
    max_bytes = int(settings.max_upload_mb * 1024 * 1024)
    check = UploadCheck()
    names: set[str] = set()
    root = upload_root.resolve()
    for done, path in enumerate(files):
        name = safe_upload_name(path.name)
        if progress:
            progress(done / len(files), f"检查 Checking {name}")
        problem = _not_uploaded(path, name, root) or _cheap_problem(path, name, max_bytes, settings)
        if problem is None and name in names:
            problem = f"'{name}' was given twice in one upload; rename one of them."
        if problem is None and name in indexed_elsewhere:
            problem = f"'{name}' is already indexed from the corpus; rename the file to add it as a new document."
        if problem is None:
            try:
                check_readable(
                    path, name=name, max_bytes=max_bytes, timeout_s=settings.parse_timeout_s
                )
            except DocumentError as exc:
                problem = str(exc)
        if problem is None:
            check.accepted.append((path, name))
            names.add(name)
        else:
            check.rejected.append(problem)
    return check


def _not_uploaded(path: Path, name: str, root: Path) -> str | None:
    """A path that is not a regular file uploaded to this app (a server path, a link out of the
    upload folder, a folder): refused with the same sentence whether it exists or not, so the
    endpoint tells nothing about the server's files."""
    try:
        real = path.resolve()
        uploaded = root in real.parents and not path.is_symlink() and real.is_file()
    except (OSError, RuntimeError):
        uploaded = False
    if uploaded:
        return None
    return f"'{name}' is not a file uploaded to this app; upload the document itself."


def _cheap_problem(path: Path, name: str, max_bytes: int, settings) -> str | None:
    if Path(name).suffix.lower() not in SUPPORTED_SUFFIXES:
        return (
            f"'{name}' is not a supported file type (supported: {', '.join(SUPPORTED_SUFFIXES)}); "
            "convert it first."
        )
    try:
        size = path.stat().st_size
    except OSError:
        return f"'{name}' was not received completely; upload it again."
    if size > max_bytes:
        return (
            f"'{name}' is {size / 1024 / 1024:.1f} MB, over the upload limit of "
            f"{settings.max_upload_mb:g} MB; split it or raise ASSISTANT_MAX_UPLOAD_MB."
        )
    return None


def store_uploads(accepted: Sequence[tuple[Path, str]], folder: Path) -> list[Path]:
    """Copy the accepted files into the uploads folder (each replaced atomically)."""
    folder.mkdir(parents=True, exist_ok=True)
    stored = []
    for source, name in accepted:
        target = folder / name
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".upload-", suffix=".part")
        try:
            with os.fdopen(fd, "wb") as out, source.open("rb") as handle:
                shutil.copyfileobj(handle, out)
            os.replace(tmp, target)
        finally:
            Path(tmp).unlink(missing_ok=True)
        stored.append(target)
    return stored


class SessionQuota:
    """What each browser session has uploaded so far (files, bytes), against the settings'
    per-session limits. Kept on the server, keyed by Gradio's session hash; a client cannot reset
    its own count from the page, and a new session starts from zero."""

    def __init__(self, max_files: int, max_mb: float):
        self.max_files = max_files
        self.max_bytes = int(max_mb * 1024 * 1024)
        self._used: dict[str, tuple[int, int]] = {}
        self._lock = threading.Lock()

    def take(self, session: str, files: Sequence[Path]) -> None:
        """Count ``files`` against ``session``, or raise UsageError when they would exceed it."""
        sizes = []
        for path in files:
            try:
                sizes.append(path.stat().st_size)
            except OSError:
                sizes.append(0)  # refused later as not received
        with self._lock:
            count, used = self._used.get(session, (0, 0))
            if count + len(files) > self.max_files:
                raise UsageError(
                    f"This browser session has uploaded {count} files, and {len(files)} more "
                    f"would pass its limit of {self.max_files}; open a new session to upload more."
                )
            if used + sum(sizes) > self.max_bytes:
                raise UsageError(
                    f"This browser session has uploaded {used / 1024 / 1024:.1f} MB, and these "
                    f"files would pass its limit of {self.max_bytes / 1024 / 1024:g} MB; open a "
                    "new session to upload more."
                )
            self._used[session] = (count + len(files), used + sum(sizes))


def remove_received(files: Sequence[str | Path], upload_root: Path) -> None:
    """Delete the files Gradio received for one upload (and their folders, once empty): the
    accepted ones are copied into the data directory, the rest are not kept at all."""
    root = upload_root.resolve()
    for file in files:
        path = Path(file)
        try:
            real = path.resolve()
        except (OSError, RuntimeError):
            continue
        if root not in real.parents or path.is_symlink():
            continue  # never delete anything outside Gradio's upload folder
        real.unlink(missing_ok=True)
        folder = real.parent
        while folder != root and root in folder.parents:
            try:
                folder.rmdir()
            except OSError:
                break
            folder = folder.parent


@dataclass
class UploadResult:
    indexed: list[str]
    rejected: list[str]
    report: object | None = None  # index.pipeline.IndexReport

    def markdown(self) -> str:
        lines = []
        if self.indexed:
            names = "、".join(f"`{n}`" for n in self.indexed)
            lines.append(f"✔ 已索引 Indexed: {names}")
        if self.report is not None:
            r = self.report
            lines.append(
                f"文档 documents {r.documents} · 片段 chunks {r.chunks} · 新增 added {r.added} · "
                f"更新 updated {r.updated} · 未变 unchanged {r.unchanged} · {r.seconds:.1f} s"
            )
        lines += [f"⚠ {m}" for m in self.rejected]
        return "\n\n".join(lines) or "没有文件被索引 · Nothing was indexed."


def upload_and_index(
    components,
    files: Sequence[str | Path],
    progress: Progress | None = None,
    *,
    upload_root: Path,
) -> UploadResult:
    """Check, store and index one upload batch (files inside ``upload_root`` only)."""
    settings = components.settings
    kb = components.knowledge_base()
    folder = uploads_dir(settings)
    manifest = kb.load_manifest()
    elsewhere = {
        name
        for name, entry in manifest.documents.items()
        if folder.resolve() not in Path(entry.source).resolve().parents
    }
    check = check_uploads(
        files, settings, upload_root=upload_root, indexed_elsewhere=elsewhere, progress=progress
    )
    if not check.accepted:
        return UploadResult([], check.rejected)
    stored = store_uploads(check.accepted, folder)

    def on_progress(done: int, total: int, name: str) -> None:
        if progress:
            progress(done / max(total, 1), f"索引 Indexing {name} ({done}/{total})")

    report = components.indexer().index_paths(stored, progress=on_progress)
    failed = {name for name, _ in report.errors}
    rejected = check.rejected + [message for _, message in report.errors]
    indexed = [p.name for p in stored if p.name not in failed]
    return UploadResult(indexed, rejected, report)
