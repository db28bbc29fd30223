"""Domain errors of the model core; each maps to one protocol error code."""

from __future__ import annotations

from model.protocol import ErrorCode


class SnapTexError(Exception):
    """Base class: ``str(error)`` is a one-line message fit for a user."""

    code: ErrorCode = ErrorCode.INTERNAL


class BadImageError(SnapTexError):
    code = ErrorCode.BAD_IMAGE


class TooLargeError(SnapTexError):
    code = ErrorCode.TOO_LARGE


class ModelLoadError(SnapTexError):
    code = ErrorCode.MODEL_UNAVAILABLE


class CancelledError(SnapTexError):
    code = ErrorCode.CANCELLED
