"""Errors the index layer raises. Each message is one sentence: what is wrong and how to fix it.

They live here, not in ``assistant``, so that ``index`` imports nothing above it;
``assistant.errors`` re-exports them beside its own, and the edges translate them all once.
"""

from __future__ import annotations


class UserFacingError(Exception):
    """Base of every error whose message is written for users (``assistant.errors`` calls it
    ``AssistantError``)."""

    exit_code = 1


class DocumentError(UserFacingError):
    """One document could not be read; the rest of a batch goes on."""


class DataDirError(UserFacingError):
    """The data directory is missing, read-only, full or corrupt."""


class IndexInUseError(UserFacingError):
    """Another process is writing the index."""


class IndexMismatchError(UserFacingError):
    """The index was built with another embedder or chunking settings."""


class ModelUnavailableError(UserFacingError):
    """A model (embedder or LLM) is not installed, missing or broken."""
