"""The keyword index: BM25 (bm25s) over jieba tokens, persisted beside Chroma.

It is derived data: rebuilt from the vector store's records whenever the set of chunks changes,
and written as an immutable snapshot named by the manifest's fingerprint, then published by
atomically replacing ``CURRENT``. A reader compares ``CURRENT`` with the manifest and so never
uses a keyword index that disagrees with Chroma; a crash mid-write leaves the old snapshot live.
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from .code_lines import prose_lines
from .keyword_tokens import ENTITY_WEIGHT, LATIN_TERM, coverage_terms, has_cjk, keyword_tokens
from .manifest import write_atomic
from .translation import build_table, translate

DF_SAMPLE = 2000
_UNCHECKED = "\x00unchecked"  # stands for the share of a question no chunk can match lexically
CJK_CHAR = re.compile(r"[\u4e00-\u9fff]")
_ASCII_LETTER = re.compile(r"[a-z]")


def _script(text: str) -> str:
    cjk = len(CJK_CHAR.findall(text))
    if not cjk:
        return "latin"
    return "cjk" if cjk >= 0.2 * (cjk + len(_ASCII_LETTER.findall(text))) else "mixed"


@dataclass(frozen=True)
class KeywordRecord:
    id: str
    text: str  # indexed text: section path + "\n" + body
    metadata: dict


class KeywordSnapshot:
    """A loaded keyword index: BM25 ranking plus IDF data for calibrated term coverage."""

    def __init__(
        self,
        fingerprint: str,
        records: list[KeywordRecord],
        tokens: list[list[str]],
        bm25,
        translations: dict[str, list[str]] | None = None,
    ):
        self.fingerprint = fingerprint
        self.records = records
        self.by_id = {record.id: i for i, record in enumerate(records)}
        self._bm25 = bm25
        self._vocab = frozenset(t for doc_tokens in tokens for t in doc_tokens)
        self._lowered = [r.text.lower() for r in records]
        self._df: dict[str, float] = {}
        self.aliases = _mine_aliases(self._lowered)
        self.corpus_is_cjk = _is_cjk(self._lowered)
        # English gloss -> the corpus's Chinese words (translation.py); ranks English questions.
        self.translations = translations or {}
        self._scripts: list[str] | None = None
        self._prose_words: frozenset[str] | None = None
        self._sections: dict[tuple[str, str], list[tuple[str, int, int, str]]] | None = None

    def script(self, index: int) -> str:
        """ "cjk" (CJK characters at least a fifth of the letters), "latin" (no CJK at all) or
        "mixed" (e.g. code with Chinese comments) for record ``index``."""
        if self._scripts is None:
            self._scripts = [_script(text) for text in self._lowered]
        return self._scripts[index]

    def prose_words(self) -> frozenset[str]:
        """Latin words the corpus uses in sentences, not in code: names inside Chinese sentences
        ("由Google开发", "GPT-3是…") and the words of English passages. An English question can
        match those. Words found only in code ("model = …", "text") are not counted: sharing
        them with a Chinese corpus says nothing about being covered."""
        if self._prose_words is None:
            words: set[str] = set()
            for text in self._lowered:
                for line in prose_lines(text):
                    words.update(LATIN_TERM.findall(line))
            self._prose_words = frozenset(words)
        return self._prose_words

    def section_chunks(self, document: str, section: str) -> list[tuple[str, int, int, str]]:
        """(id, start, end, body) of the text chunks of one section of one document, in document
        order (section_window.py widens a found chunk with them)."""
        if self._sections is None:
            grouped: dict[tuple[str, str], list[tuple[str, int, int, str]]] = {}
            for record in self.records:
                meta = record.metadata
                if meta.get("kind", "text") != "text":
                    continue
                key = (meta.get("document", ""), meta.get("section", ""))
                body = record.text[int(meta.get("body_start", 0)) :]
                span = (int(meta.get("start", 0)), int(meta.get("end", 0)))
                grouped.setdefault(key, []).append((record.id, *span, body))
            for chunks in grouped.values():
                chunks.sort(key=lambda chunk: chunk[1])
            self._sections = grouped
        return self._sections.get((document, section), [])

    def __len__(self) -> int:
        return len(self.records)

    def idf(self, term: str) -> float:
        """Smoothed IDF by substring document frequency: rare terms weigh most, unseen the most."""
        df = self._df.get(term)
        if df is None:
            # Estimated on an even sample of at most DF_SAMPLE records (a full scan per new term
            # costs ~100 ms at 10,000 chunks); a term the sample lacks is looked for everywhere,
            # since "absent from the corpus" must be exact.
            step = max(1, len(self._lowered) // DF_SAMPLE)
            sample = self._lowered[::step]
            hits = sum(term in text for text in sample)
            if hits:
                df = hits * len(self._lowered) / len(sample)
            else:
                df = float(any(term in text for text in self._lowered))
            self._df[term] = df
        n_docs = max(len(self.records), 1)
        return math.log(1 + (n_docs - df + 0.5) / (df + 0.5))

    def query_terms(self, query: str) -> dict[str, float]:
        """Coverage terms of a question with their IDF weights. For a question with no Chinese
        terms over a Chinese corpus, English words that never occur in the corpus are dropped:
        they cannot match lexically, and the dense signal carries cross-lingual questions."""
        cjk_terms, latin_terms = coverage_terms(query)
        terms = {t: self.idf(t) for t in cjk_terms}
        entity_weight = ENTITY_WEIGHT if cjk_terms and self.corpus_is_cjk else 1.0
        for term in latin_terms:
            terms[term] = self.idf(term) * entity_weight
        if not cjk_terms and self.corpus_is_cjk:
            # Only the words the corpus has can be checked; the coverage of those few says less
            # about the whole question, so it is scaled by their share of the question's weight.
            words = self.prose_words()
            checkable = {t: w for t, w in terms.items() if t in words or self.aliases.get(t)}
            # (square root: a named term such as "pytorch" is worth more than its IDF share).
            share = math.sqrt(sum(checkable.values()) / (sum(terms.values()) or 1.0))
            mass = sum(checkable.values()) or 1.0
            scaled = {t: share * w / mass for t, w in checkable.items()}
            return scaled | ({_UNCHECKED: 1.0 - share} if checkable else {})
        return terms

    def search(self, query_tokens: list[str], k: int) -> list[tuple[int, float]]:
        """(record index, BM25 score) of the best ``k`` records with a positive score."""
        if not self.records or not query_tokens:
            return []
        known = [t for t in query_tokens if t in self._vocab]
        if not known:
            return []
        k = min(k, len(self.records))
        ids, scores = self._bm25.retrieve([known], k=k, show_progress=False, n_threads=1)
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True) if s > 0]

    def coverage(self, terms: dict[str, float], index: int) -> float:
        """Share of the question's IDF mass whose terms occur in the record (0-1): an absolute
        measure, comparable across questions, unlike raw BM25 scores. A term also counts as
        present when its alias does ("nlp" ↔ "自然语言处理")."""
        total = sum(terms.values())
        if not total:
            return 0.0
        text = self._lowered[index]
        present = 0.0
        for term, weight in terms.items():
            alias = self.aliases.get(term)
            if term in text or (alias and alias in text):
                present += weight
        return present / total

    def expand(self, query: str) -> str:
        """The query with the aliases of its abbreviations appended, and for an English question
        over a Chinese corpus the corpus words its words gloss (for BM25 ranking only)."""
        lowered = query.lower()
        extra = [
            alias for term, alias in self.aliases.items() if term.isascii() and term in lowered
        ]
        if self.corpus_is_cjk and not has_cjk(query):
            extra += translate(query, self.translations)
        return query if not extra else f"{query} {' '.join(extra)}"


class KeywordIndex:
    """The on-disk keyword index of one collection."""

    def __init__(self, folder: Path):
        self.folder = folder
        self._current = folder / "CURRENT"

    def _published(self) -> tuple[str, Path] | None:
        """(fingerprint, snapshot folder) named by ``CURRENT``, if that folder exists."""
        try:
            current = json.loads(self._current.read_text(encoding="utf-8"))
            fingerprint = current["fingerprint"]
            # Older indexes named the folder by the fingerprint alone.
            name = Path(current.get("snapshot") or f"snap-{fingerprint}").name
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return None
        snapshot = self.folder / name
        return (fingerprint, snapshot) if snapshot.is_dir() else None

    def current_fingerprint(self) -> str | None:
        published = self._published()
        return published[0] if published else None

    def build(self, fingerprint: str, records: list[KeywordRecord]) -> None:
        """Write a new snapshot and publish it atomically; older snapshots are removed after.

        Every build gets a folder of its own: rebuilding the same set of chunks (after an
        interrupted run) never deletes or rewrites the folder that ``CURRENT`` names, so a crash
        at any point leaves a whole snapshot published."""
        import bm25s

        self.folder.mkdir(parents=True, exist_ok=True)
        name = f"snap-{fingerprint}-{os.urandom(4).hex()}"
        snapshot = self.folder / name
        staging = self.folder / f".staging-{name}"
        for leftover in self.folder.glob(".staging-*"):  # of a killed build; one writer at a time
            shutil.rmtree(leftover, ignore_errors=True)
        staging.mkdir(parents=True)
        # Chunks kept from the previous snapshot keep their tokens: an incremental run tokenises
        # only what changed (jieba is the slow part of a rebuild).
        previous = self._previous_tokens()
        tokens = [
            previous.get((r.id, r.text)) or keyword_tokens(r.text) or ["\u2205"] for r in records
        ]
        payload = [
            {"id": r.id, "text": r.text, "metadata": r.metadata, "tokens": t}
            for r, t in zip(records, tokens, strict=True)
        ]
        (staging / "records.json").write_text(
            json.dumps(payload, ensure_ascii=False), encoding="utf-8"
        )
        if records:
            bm25 = bm25s.BM25()
            bm25.index(tokens, show_progress=False)
            bm25.save(str(staging / "bm25"), show_progress=False)
        cjk = _is_cjk([r.text for r in records[:200]])
        translations = build_table({t for doc in tokens for t in doc}) if cjk else {}
        # Chinese questions read code and English text through CC-CEDICT's glosses
        # (answer_evidence.py): the table is written once per data directory, here.
        from .glosses import prepare_gloss_table

        prepare_gloss_table()
        (staging / "translations.json").write_text(
            json.dumps(translations, ensure_ascii=False), encoding="utf-8"
        )
        _fsync_tree(staging)
        staging.rename(snapshot)
        current = {"fingerprint": fingerprint, "snapshot": name}
        write_atomic(self._current, json.dumps(current).encode())
        for old in self.folder.glob("snap-*"):
            if old != snapshot:
                shutil.rmtree(old, ignore_errors=True)

    def _previous_tokens(self) -> dict[tuple[str, str], list[str]]:
        published = self._published()
        if published is None:
            return {}
        try:
            payload = json.loads((published[1] / "records.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return {(p["id"], p["text"]): p["tokens"] for p in payload}

    def load(self) -> KeywordSnapshot | None:
        import bm25s

        for _ in range(3):  # a writer may publish a new snapshot and delete this one meanwhile
            published = self._published()
            if published is None:
                return None
            fingerprint, snapshot = published
            try:
                payload = json.loads((snapshot / "records.json").read_text(encoding="utf-8"))
                bm25 = (
                    bm25s.BM25.load(str(snapshot / "bm25"), show_progress=False)
                    if payload
                    else None
                )
            except (OSError, ValueError):
                if self._published() == published:
                    return None
                continue
            records = [KeywordRecord(p["id"], p["text"], p["metadata"]) for p in payload]
            tokens = [p["tokens"] for p in payload]
            return KeywordSnapshot(fingerprint, records, tokens, bm25, _translations(snapshot))
        return None

    def drop(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


def _translations(snapshot: Path) -> dict[str, list[str]]:
    """The snapshot's translation table; none in a snapshot written before it existed (or one
    unreadable): English questions then rank by the dense signal alone, as they did."""
    try:
        table = json.loads((snapshot / "translations.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return table if isinstance(table, dict) else {}


def _is_cjk(texts: list[str]) -> bool:
    """Chinese (or Japanese) text makes up most of the first records."""
    sample = "".join(texts[:200])[:20000]
    return has_cjk(sample) and len(CJK_CHAR.findall(sample)) > 0.3 * len(sample)


def _fsync_tree(folder: Path) -> None:
    """Flush a snapshot's files before it is published (the rename is only atomic for what is
    on disk)."""
    for path in [*sorted(folder.rglob("*"), reverse=True), folder]:
        flags = os.O_RDONLY | (os.O_DIRECTORY if path.is_dir() else 0)
        fd = os.open(path, flags)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


_ABBREVIATION = re.compile(r"([\u4e00-\u9fff]{2,12})[（(]([a-z][a-z0-9\-]{1,11})[）)]")


def _mine_aliases(texts: list[str]) -> dict[str, str]:
    """Abbreviations the corpus defines itself ("自然语言处理（NLP）"): both ways."""
    aliases: dict[str, str] = {}
    for text in texts:
        for long_form, short_form in _ABBREVIATION.findall(text):
            aliases.setdefault(short_form, long_form)
            aliases.setdefault(long_form, short_form)
    return aliases
