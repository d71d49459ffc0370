"""User-facing errors. Each message is one sentence: what is wrong and how to fix it.

The index layer's errors are defined in ``index.errors`` and re-exported here, so callers need
only this module. The edges translate them once: the CLI prints the message and exits 1 (2 for
usage), the web app shows it as a notice.
"""

from __future__ import annotations

from index.errors import (
    DataDirError,
    DocumentError,
    IndexInUseError,
    IndexMismatchError,
    ModelUnavailableError,
    UserFacingError,
)

__all__ = [
    "AssistantError",
    "BackendError",
    "DataDirError",
    "DocumentError",
    "IndexInUseError",
    "IndexMismatchError",
    "IndexMissingError",
    "InvalidQuestionError",
    "ModelCrashedError",
    "ModelUnavailableError",
    "UsageError",
]

# One base for every user-facing error, whichever layer raised it.
AssistantError = UserFacingError


class UsageError(AssistantError):
    """Bad arguments or input from the user."""

    exit_code = 2


class InvalidQuestionError(UsageError):
    """The question is empty, too long or unreadable."""


class IndexMissingError(AssistantError):
    """Nothing has been indexed yet."""


class BackendError(AssistantError):
    """An answering backend failed (down, slow, invalid reply)."""


class ModelCrashedError(BackendError):
    """The local model's process crashed, hung or was killed; a new one is started for the next
    question, and an answer it was writing is cut off. ``exit`` says how the process ended
    ("crashed (SIGSEGV)"), None when it hung."""

    def __init__(self, message: str, *, exit: str | None = None):
        super().__init__(message)
        self.exit = exit
