"""The worker's self-check of a reading, as the app reads it from a message.

A ``result`` may carry ``confidence``, ``needs_check``, ``check_reason`` and
``check_region``; a later ``check`` message for the same id may carry them again once a
slower check has finished. Every key is optional (older workers send none of them) and
a malformed value is ignored rather than trusted: the check only ever adds a warning.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

Region = tuple[float, float, float, float]  # x0, y0, x1, y1 as fractions of the image

DEFAULT_REASON = "the recogniser is unsure of this reading"


@dataclass(frozen=True)
class SelfCheck:
    confidence: float | None = None
    needs_check: bool = False
    reason: str | None = None
    region: Region | None = None

    @property
    def shown_reason(self) -> str:
        """The one line the popup shows for a flagged reading."""
        return (self.reason or DEFAULT_REASON).strip().splitlines()[0]


def _fraction(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return min(1.0, max(0.0, number)) if math.isfinite(number) else None


def parse_region(value: Any) -> Region | None:
    """``[x0, y0, x1, y1]`` in 0..1 -> an ordered, clamped box; None if unusable."""
    if not isinstance(value, (list, tuple)) or len(value) != 4:
        return None
    numbers = [_fraction(v) for v in value]
    if any(n is None for n in numbers):
        return None
    x0, y0, x1, y1 = numbers
    box = (min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1))
    return box if box[2] > box[0] and box[3] > box[1] else None


def from_message(message: dict[str, Any]) -> SelfCheck:
    """The self-check carried by a ``result`` or ``check`` message (keys optional)."""
    reason = message.get("check_reason")
    return SelfCheck(
        confidence=_fraction(message.get("confidence")),
        needs_check=message.get("needs_check") is True,
        reason=(reason.strip() or None) if isinstance(reason, str) else None,
        region=parse_region(message.get("check_region")),
    )


def has_check(message: dict[str, Any]) -> bool:
    """Whether a message says anything about the check (a bare result does not)."""
    return any(
        key in message for key in ("needs_check", "check_reason", "check_region")
    )
