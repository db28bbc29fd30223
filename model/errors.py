"""Domain errors of the model core; each maps to one protocol error code."""

from __future__ import annotations

from model.protocol import ErrorCode


class SnapTexError(Exception):
    """Base class: ``str(error)`` is a one-line message fit for a user."""

    code: ErrorCode = ErrorCode.INTERNAL

    def __init__(self, message: str = "", reason: str | None = None) -> None:
        super().__init__(message)
        # Optional finer kind sent beside ``code`` (e.g. "blank" for a bad_image with
        # no ink), so the UI can say what is wrong without parsing the message.
        self.reason = reason


class BadImageError(SnapTexError):
    code = ErrorCode.BAD_IMAGE


class TooLargeError(SnapTexError):
    code = ErrorCode.TOO_LARGE


class ModelLoadError(SnapTexError):
    code = ErrorCode.MODEL_UNAVAILABLE


class CancelledError(SnapTexError):
    code = ErrorCode.CANCELLED
