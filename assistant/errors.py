"""User-facing errors. Each message is one sentence: what is wrong and how to fix it.

The edges translate them once: the CLI prints the message and exits 1 (2 for usage), the web
app shows it as a notice.
"""

from __future__ import annotations


class AssistantError(Exception):
    """Base of every error whose message is written for users."""

    exit_code = 1


class UsageError(AssistantError):
    """Bad arguments or input from the user."""

    exit_code = 2


class InvalidQuestionError(UsageError):
    """The question is empty, too long or unreadable."""


class DocumentError(AssistantError):
    """One document could not be read; the rest of a batch goes on."""


class DataDirError(AssistantError):
    """The data directory is missing, read-only, full or corrupt."""


class IndexInUseError(AssistantError):
    """Another process is writing the index."""


class IndexMismatchError(AssistantError):
    """The index was built with another embedder or chunking settings."""


class IndexMissingError(AssistantError):
    """Nothing has been indexed yet."""


class ModelUnavailableError(AssistantError):
    """A model (embedder or LLM) is not installed, missing or broken."""


class BackendError(AssistantError):
    """An answering backend failed (down, slow, invalid reply)."""


class ModelCrashedError(BackendError):
    """The local model's process crashed, hung or was killed; a new one is started for the next
    question, and an answer it was writing is cut off. ``exit`` says how the process ended
    ("crashed (SIGSEGV)"), None when it hung."""

    def __init__(self, message: str, *, exit: str | None = None):
        super().__init__(message)
        self.exit = exit
