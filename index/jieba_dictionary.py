"""jieba's dictionary as an on-disk table, so a cold process can cut a question without loading it.

jieba keeps every word of its dictionary and every word prefix (~580,000 entries) in one dict.
Loading that dict costs 1.1-1.4 s in each cold process, and cutting one question reads a few
hundred entries of it. The same entries are written once, by a process that has loaded the
dictionary, into an SQLite table under the data directory. A tokenizer whose ``FREQ`` reads
that table cuts text exactly as jieba does (tests/test_jieba_dictionary.py compares them). A
process that tokenizes a lot of text (indexing) switches to the loaded dictionary
(``keyword_tokens``).
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import tempfile
import threading
from collections.abc import Mapping
from pathlib import Path

log = logging.getLogger(__name__)

_MISSING = object()
# v2: each word also has its part-of-speech tag (for telling names from ordinary words).
SCHEMA = "words+tags v2"


def source_fingerprint() -> str:
    """What the table was built from: jieba's version and its default dictionary file."""
    import jieba

    dictionary = Path(jieba.__file__).parent / jieba.DEFAULT_DICT_NAME
    size = dictionary.stat().st_size if dictionary.is_file() else 0
    return f"jieba {jieba.__version__}; {dictionary.name} {size} bytes; {SCHEMA}"


class FrequencyTable:
    """Read-only word → frequency lookups on the table, answers remembered. It offers what jieba
    reads of its ``FREQ`` dict when it cuts text: ``get``, ``in`` and ``[]``."""

    def __init__(self, db: sqlite3.Connection, total: int):
        self.total = total
        self._db = db
        self._lock = threading.Lock()
        self._memo: dict[str, int | None] = {}

    @classmethod
    def open(cls, path: Path) -> FrequencyTable | None:
        """The table at ``path``, or None if it is missing, damaged or built from another jieba."""
        if not path.is_file():
            return None
        db = None
        try:
            db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
            meta = dict(db.execute("SELECT key, value FROM meta").fetchall())
            if meta.get("source") == source_fingerprint():
                return cls(db, int(meta["total"]))
        except (sqlite3.Error, KeyError, ValueError, OSError):
            pass
        if db is not None:
            db.close()
        return None

    def close(self) -> None:
        self._db.close()

    def tag(self, word: str) -> str | None:
        """The word's part-of-speech tag in jieba's dictionary ("nr" a person, "ns" a place, "nt"
        an organisation, "nz" another proper name…), or None for a word it does not know."""
        with self._lock:
            row = self._db.execute("SELECT tag FROM words WHERE word = ?", (word,)).fetchone()
        return row[0] if row else None

    def get(self, word: str, default=None):
        if word in self._memo:
            value = self._memo[word]
        else:
            with self._lock:
                row = self._db.execute("SELECT freq FROM words WHERE word = ?", (word,)).fetchone()
            value = self._memo[word] = row[0] if row else None
        return default if value is None else value

    def __getitem__(self, word: str) -> int:
        value = self.get(word, _MISSING)
        if value is _MISSING:
            raise KeyError(word)
        return value

    def __contains__(self, word: object) -> bool:
        return isinstance(word, str) and self.get(word, _MISSING) is not _MISSING


def write_table(
    path: Path, freq: Mapping[str, int], total: int, tags: Mapping[str, str] | None = None
) -> None:
    """Write the table for a loaded dictionary: to a temporary file, then renamed into place. A
    failure (a read-only data directory) leaves things as they were: jieba loads as before."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temp_name = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        os.close(fd)
        temp = Path(temp_name)
        try:
            db = sqlite3.connect(temp)
            try:
                db.execute("PRAGMA journal_mode = OFF")
                db.execute("PRAGMA synchronous = OFF")
                db.execute(
                    "CREATE TABLE words (word TEXT PRIMARY KEY, freq INTEGER, tag TEXT) WITHOUT ROWID"
                )
                db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)")
                tags = tags or {}
                db.executemany(
                    "INSERT INTO words VALUES (?, ?, ?)",
                    ((word, n, tags.get(word)) for word, n in freq.items()),
                )
                db.executemany(
                    "INSERT INTO meta VALUES (?, ?)",
                    [("total", str(total)), ("source", source_fingerprint())],
                )
                db.commit()
            finally:
                db.close()
            with open(temp, "rb") as handle:
                os.fsync(handle.fileno())
            os.replace(temp, path)
        finally:
            with contextlib.suppress(OSError):
                temp.unlink()
    except (OSError, sqlite3.Error) as exc:
        log.debug("jieba dictionary table not written to %s: %s", path, exc)


def tokenizer_on_table(table: FrequencyTable):
    """A jieba tokenizer that reads word frequencies from ``table`` instead of loading them."""
    import jieba

    tokenizer = jieba.Tokenizer()
    # jieba reads only ``FREQ`` (get / in / []) and ``total`` when it cuts text; ``initialized``
    # keeps it from loading its own dictionary over them.
    tokenizer.FREQ = table
    tokenizer.total = table.total
    tokenizer.initialized = True
    return tokenizer
