"""Shared fixtures: settings in a temporary data directory, the real packaged default embedder
(multilingual-e5-small) loaded once per session, and ``Components`` built around it; helpers that
read an index back from disk."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from assistant.components import Components
from assistant.settings import Settings

TIERS = ("unit", "integration", "llm", "browser")


def pytest_collection_modifyitems(config, items) -> None:
    """Every test belongs to a tier (pyproject's markers), so `make test-fast` (``-m unit``) and a
    tier run select what they say; a test without one is an error, not silently left out."""
    untiered = [item.nodeid for item in items if not any(item.get_closest_marker(t) for t in TIERS)]
    if untiered:
        raise pytest.UsageError(
            f"{len(untiered)} test(s) have no tier marker ({', '.join(TIERS)}), first: "
            f"{untiered[0]}; add `pytestmark = pytest.mark.unit` (or the right tier) to its file."
        )


@pytest.fixture
def settings_factory(tmp_path: Path) -> Callable[..., Settings]:
    """``settings_factory(**overrides)``: settings whose data directory is ``tmp_path/"data"``."""

    def make(**overrides: object) -> Settings:
        return Settings(**({"data_dir": tmp_path / "data"} | overrides))

    return make


@pytest.fixture(scope="session")
def embeddings():
    """The packaged default embedder (multilingual-e5-small), loaded once (it takes seconds)."""
    from index.embeddings import E5Embeddings

    model = E5Embeddings(threads=2)
    model.load()
    return model


@pytest.fixture(scope="session")
def use_embeddings():
    """The packaged Google USE multilingual model, the other offline choice, loaded once."""
    from index.embeddings import USEMultilingualEmbeddings

    model = USEMultilingualEmbeddings(threads=2)
    model.load()
    return model


def components_with(settings: Settings, embeddings) -> Components:
    """``Components`` for ``settings`` that reuse the session's model instead of loading one."""
    return Components(
        settings, embeddings=embeddings if settings.embedder == embeddings.kind else None
    )


@pytest.fixture
def components_factory(settings_factory, embeddings) -> Callable[..., Components]:
    """``components_factory(**overrides)``: Components over ``settings_factory(**overrides)``."""

    def make(**overrides: object) -> Components:
        return components_with(settings_factory(**overrides), embeddings)

    return make


@dataclass
class IndexState:
    """What is on disk, read back through the stores (not through the indexer's bookkeeping)."""

    manifest_dirty: bool
    manifest_ids: set[str]
    documents: dict[str, list[str]]  # name -> chunk ids in the manifest
    chroma_ids: list[str]  # as listed by Chroma: a duplicate would show up twice
    chroma_texts: dict[str, str]
    keyword_ids: list[str] | None  # None: no keyword index published
    keyword_current: bool  # the published keyword index is the one of this manifest

    def assert_consistent(self) -> None:
        """The invariant after every completed run: one clean manifest, Chroma and the keyword
        index hold exactly its chunks, each once."""
        assert not self.manifest_dirty, "the manifest is still marked dirty"
        assert len(self.chroma_ids) == len(set(self.chroma_ids)), "duplicate ids in Chroma"
        assert set(self.chroma_ids) == self.manifest_ids, "Chroma differs from the manifest"
        assert self.keyword_ids is not None, "no keyword index published"
        assert sorted(self.keyword_ids) == sorted(self.chroma_ids), "keyword index differs"
        assert self.keyword_current, "the keyword index is not the manifest's"


def read_index_state(components: Components) -> IndexState:
    kb = components.knowledge_base()
    manifest = kb.load_manifest()
    records = kb.vector_store.get_records()
    snapshot = kb.keyword_index.load()
    return IndexState(
        manifest_dirty=manifest.dirty,
        manifest_ids=manifest.chunk_ids(),
        documents={name: list(e.chunk_ids) for name, e in manifest.documents.items()},
        chroma_ids=[cid for cid, _, _ in records],
        chroma_texts={cid: text for cid, text, _ in records},
        keyword_ids=[r.id for r in snapshot.records] if snapshot is not None else None,
        keyword_current=kb.keyword_index.current_fingerprint() == manifest.fingerprint(),
    )


@pytest.fixture
def index_state() -> Callable[[Components], IndexState]:
    return read_index_state
