"""Offline LaTeX preview: matplotlib's mathtext rendered to a QImage.

mathtext covers the usual equation subset (fractions, roots, scripts, Greek, big
operators, accents, \\left/\\right). ``to_mathtext`` rewrites common commands it lacks;
whatever still fails raises PreviewError with a one-line reason for the popup.
matplotlib is imported on first use only, so starting the app stays quick.
"""

from __future__ import annotations

import io
import logging
import re
import threading

from PySide6.QtGui import QImage

from model.mathtext import to_mathtext

logger = logging.getLogger(__name__)


# mathtext keeps global parser/font caches: one render at a time (the background
# warm-up and the GUI thread may otherwise overlap once).
_RENDER_LOCK = threading.Lock()


class PreviewError(ValueError):
    """mathtext cannot draw this LaTeX; the message says why in one line."""


def render(
    latex: str,
    font_pt: float = 20.0,
    color: str = "#1d1d1f",
    device_pixel_ratio: float = 1.0,
) -> QImage:
    """The formula as a transparent image at the screen's pixel ratio."""
    text = to_mathtext(latex)
    if not text:
        raise PreviewError("nothing to preview")
    from matplotlib import rc_context
    from matplotlib.font_manager import FontProperties
    from matplotlib.mathtext import math_to_image

    buffer = io.BytesIO()
    try:
        # "cm": Computer Modern glyphs, so the preview looks like typeset LaTeX.
        with _RENDER_LOCK, rc_context({"mathtext.fontset": "cm"}):
            math_to_image(
                f"${text}$",
                buffer,
                prop=FontProperties(size=font_pt),
                dpi=96 * device_pixel_ratio,
                format="png",
                color=color,
            )
    except Exception as exc:  # mathtext raises ValueError or pyparsing errors
        raise PreviewError(_first_line(exc)) from None
    image = QImage.fromData(buffer.getvalue(), "PNG")
    if image.isNull():
        raise PreviewError("the preview image could not be decoded")
    image.setDevicePixelRatio(device_pixel_ratio)
    return image


def _first_line(exc: Exception) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    # mathtext's message ends with the parser's reason, e.g. "Unknown symbol: \\foo".
    reason = next(
        (line for line in reversed(lines) if ":" in line), lines[-1] if lines else ""
    )
    return re.sub(r"^\w+(Exception|Error):\s*", "", reason)[:160] or type(exc).__name__


def warm_up() -> None:
    """Import matplotlib and build its font cache (seconds on a first run)."""
    try:
        render("x")
    except PreviewError:
        logger.exception("preview warm-up failed")


_WARM_UP: list[threading.Thread] = []


def warm_up_in_background() -> None:
    """Warm up off the GUI thread, so the first result renders at once and the
    event loop (single-instance socket included) never stalls on font scanning."""
    thread = threading.Thread(target=warm_up, name="preview-warm-up", daemon=True)
    _WARM_UP.append(thread)
    thread.start()


def finish_warm_up(timeout_s: float = 10.0) -> None:
    """Wait for a warm-up still running. Called before the app exits: a daemon thread
    stopped inside matplotlib's C++ font code at interpreter exit aborts the process
    ("terminate called without an active exception")."""
    while _WARM_UP:
        _WARM_UP.pop().join(timeout_s)
