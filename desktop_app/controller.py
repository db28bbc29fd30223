"""The capture -> recognise -> copy state machine.

Owns "one request in flight" and the latest-wins policy: a new image cancels the
request before it, and results or errors carrying any other id are dropped. It talks to
ports passed in (worker, popup, history, grab/copy/read functions), so tests inject
fakes.
"""

from __future__ import annotations

import enum
import logging
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import (
    QBuffer,
    QByteArray,
    QIODevice,
    QObject,
    QRect,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication

from desktop_app import capture, clipboard, self_check
from desktop_app.geometry import PixelRect
from desktop_app.history import History
from desktop_app.qt_compat import make_timer
from desktop_app.settings import Settings
from desktop_app.ui.overlay import Overlay, OverlaySet, crop
from desktop_app.ui.result_popup import ResultPopup
from desktop_app.worker_client import WorkerClient
from model.delimiters import wrap
from model.options import InferenceOptions

logger = logging.getLogger(__name__)

# normcap measured 0.15 s as too short for a window to vanish before a grab.
GRAB_DELAY_MS = 400
MIN_IMAGE_PX = 4
THUMBNAIL_SIZE = (320, 96)
# Results whose late self-check may still arrive (request id -> history entry id).
AWAITED_CHECKS = 16

USER_MESSAGES: dict[str, str] = {
    "bad_image": "That image could not be read.",
    "blank_image": "The snip looks empty: there is no equation in it. "
    "Drag over the equation again, a little larger.",
    "too_large": "That image is too large; select a smaller region.",
    "not_ready": "The recogniser is still loading; try again in a moment.",
    "oom": "Out of memory: select a smaller region or use the CPU device.",
    "model_unavailable": "No usable model: {message}. "
    "Choose a model folder in Settings.",
    "internal": "Recognition failed: {message}",
    "bad_request": "The recogniser rejected the request: {message}",
    "timeout": "Recognition took too long ({message}); the recogniser was restarted.",
    "worker_crashed": "The recogniser stopped unexpectedly; it is restarting.",
    "worker_unavailable": "The recogniser is not available: {message}. "
    "Check the model folder in Settings.",
}


def user_message(code: str, message: str) -> str:
    template = USER_MESSAGES.get(code, "Recognition failed: {message}")
    return template.format(message=message.rstrip("."))


def png_bytes(image: QImage) -> bytes:
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")
    buffer.close()
    return bytes(data.data())


def thumbnail_png(image: QImage) -> bytes:
    width, height = THUMBNAIL_SIZE
    small = image.scaled(
        width,
        height,
        Qt.AspectRatioMode.KeepAspectRatio,
        Qt.TransformationMode.SmoothTransformation,
    )
    return png_bytes(
        small if image.width() > width or image.height() > height else image
    )


class Phase(str, enum.Enum):
    IDLE = "idle"
    CAPTURING = "capturing"  # waiting for our windows to vanish before the grab
    SELECTING = "selecting"
    RECOGNISING = "recognising"


class Controller(QObject):
    phase_changed = Signal(str)
    notify = Signal(str, str, bool)  # title, message, is_error (for the tray)

    def __init__(
        self,
        settings: Settings,
        worker: WorkerClient,
        popup: ResultPopup,
        history: History | None = None,
        grab: Callable[[str], list[capture.ScreenShot]] = capture.grab_all_screens,
        copy: Callable[[str, str], str] = clipboard.copy_text,
        read_image: Callable[[], QImage | None] = clipboard.read_image,
        parent: QObject | None = None,
    ):
        super().__init__(parent)
        self.settings, self.worker, self.popup, self.history = (
            settings,
            worker,
            popup,
            history,
        )
        self._grab, self._copy, self._read_image = grab, copy, read_image
        self.phase = Phase.IDLE
        self.overlays: OverlaySet | None = None
        self.current_id: str | None = None
        self._current_image: QImage | None = None
        self._started = 0.0
        self.shown_id: str | None = None  # the request whose result the popup shows
        self._entries: dict[str, int | None] = {}
        self._elapsed = make_timer(self, 1000)
        self._elapsed.timeout.connect(self._update_busy_detail)
        worker.result_ready.connect(self._on_result)
        worker.request_failed.connect(self._on_failed)
        worker.check_ready.connect(self._on_check)
        worker.state_changed.connect(self._update_busy_detail)
        popup.cancel_requested.connect(self.cancel)
        popup.copy_requested.connect(self.copy)
        popup.style_chosen.connect(self._on_style_chosen)
        popup.image_received.connect(self.recognise_image)
        popup.auto_close_s = settings.get("popup_close_s")
        settings.value_changed.connect(self._on_setting_changed)

    def handle_command(self, command: str) -> None:
        """A command forwarded by a second launch (single_instance)."""
        actions = {
            "snip": self.start_capture,
            "clipboard": self.from_clipboard,
            "show": self.popup.show,
        }
        if command in actions:
            actions[command]()

    # -- capture -------------------------------------------------------------------

    def start_capture(self) -> None:
        if self.phase is Phase.SELECTING and self.overlays:
            self.overlays.open()  # a repeated shortcut press: bring the overlays back
            return
        if self.phase is Phase.CAPTURING:
            return
        self._drop_current()  # a new snip supersedes the one being recognised
        self._set_phase(Phase.CAPTURING)
        if self._hide_own_windows():
            QTimer.singleShot(GRAB_DELAY_MS, self._grab_screens)
        else:
            self._grab_screens()

    def _hide_own_windows(self) -> bool:
        """Hide the popup and notices; True if any of our windows was visible (so
        wait for them to vanish before the grab)."""
        visible = [
            w
            for w in QApplication.topLevelWidgets()
            if w.isVisible() and not isinstance(w, Overlay)
        ]
        self.popup.hide()
        for window in visible:
            if window.property("hide_during_snip"):
                window.hide()
        return bool(visible)

    def _grab_screens(self) -> None:
        try:
            shots = self._grab(self.settings.get("capture_method"))
        except capture.CaptureError as exc:
            self._set_phase(self._resting_phase())
            self._show_failure("Screen capture failed", str(exc))
            return
        self.overlays = OverlaySet(shots, self)
        self.overlays.selected.connect(self._on_selected)
        self.overlays.cancelled.connect(self._on_overlays_cancelled)
        self.overlays.open()
        self._set_phase(Phase.SELECTING)

    def _on_selected(
        self, shot: capture.ScreenShot, pixels: PixelRect, anchor: QRect
    ) -> None:
        self.overlays = None
        self.recognise_image(crop(shot, pixels), anchor)

    def _on_overlays_cancelled(self) -> None:
        self.overlays = None
        self._set_phase(self._resting_phase())

    # -- other image sources -------------------------------------------------------

    def from_clipboard(self) -> None:
        image = self._read_image()
        if image is None:
            self.popup.show_message(
                "Nothing to recognise", "There is no image on the clipboard."
            )
            return
        self.recognise_image(image)

    def open_files(self, paths: list[str]) -> None:
        if not paths:
            return
        image = QImage(paths[0])
        if image.isNull():
            self.popup.show_message(
                "Cannot open image", f"{Path(paths[0]).name} is not a readable image."
            )
            return
        self.recognise_image(image)

    # -- recognition ---------------------------------------------------------------

    def recognise_image(self, image: QImage, anchor: QRect | None = None) -> None:
        """The one path every image takes: snip, clipboard, paste, drop or file."""
        if image is None or image.isNull():
            self.popup.show_message("Nothing to recognise", "The image is empty.")
            return
        if image.width() < MIN_IMAGE_PX or image.height() < MIN_IMAGE_PX:
            self.popup.show_message(
                "Nothing to recognise", "The selection is too small."
            )
            return
        self._drop_current()
        self._current_image = image
        self.current_id = self.worker.predict(png_bytes(image), self._options())
        self._started = time.monotonic()
        self._elapsed.start()
        self.popup.show_busy(image, anchor, self._busy_detail())
        self._set_phase(Phase.RECOGNISING)

    def _drop_current(self) -> None:
        """Latest wins: cancel the request in flight; its late answer is dropped."""
        if self.current_id:
            logger.info("cancelling %s", self.current_id)
            self.worker.cancel(self.current_id)
            self.current_id = None
        self._elapsed.stop()

    def cancel(self) -> None:
        self._drop_current()
        self.popup.hide()
        if self.phase is Phase.RECOGNISING:
            self._set_phase(Phase.IDLE)

    def _options(self) -> dict[str, Any]:
        if self.settings.get("seed_settings"):
            return InferenceOptions.seed().to_dict()
        return {key: self.settings.get(key) for key in ("num_beams", "max_new_tokens")}

    def _on_result(self, request_id: str, message: dict[str, Any]) -> None:
        if request_id != self.current_id:
            logger.info("dropping late result %s", request_id)
            return
        self._finish_request()
        latex = str(message.get("latex") or "").strip()
        if not latex:
            self.popup.show_message(
                "No LaTeX found",
                "The recogniser returned nothing for "
                "this image; try a tighter selection.",
            )
            return
        style = self.settings.get("output_format")
        copied, status = self._copy_with_status(wrap(latex, style))
        check = self_check.from_message(message)
        self.popup.show_result(
            latex,
            _as_float(message.get("confidence")),
            style,
            status,
            failed=not copied,
            check=check,
        )
        self.shown_id = request_id
        self._entries[request_id] = self._remember(latex, message, check)
        while len(self._entries) > AWAITED_CHECKS:
            self._entries.pop(next(iter(self._entries)))

    def _on_check(self, request_id: str, message: dict[str, Any]) -> None:
        """A self-check that finished after the copy: flag the popup (if it still
        shows that result) and the history entry."""
        check = self_check.from_message(message)
        if request_id == self.shown_id and self.popup.is_showing_result():
            self.popup.set_check(check)
        entry_id = self._entries.get(request_id)
        if entry_id is not None and self.history is not None:
            try:
                self.history.update_check(
                    entry_id, check.needs_check, check.reason, check.confidence
                )
            except sqlite3.Error:
                logger.exception("history update failed")

    def _on_failed(self, request_id: str, code: str, message: str) -> None:
        if request_id != self.current_id:
            logger.info("dropping late failure %s (%s)", request_id, code)
            return
        self._finish_request()
        if code != "cancelled":
            self._show_failure("Recognition failed", user_message(code, message))

    def _finish_request(self) -> None:
        self.current_id = None
        self._elapsed.stop()
        self._set_phase(Phase.IDLE if self.phase is Phase.RECOGNISING else self.phase)

    # -- clipboard and history -----------------------------------------------------

    def copy(self, text: str) -> bool:
        copied, status = self._copy_with_status(text)
        self.popup.set_status(status, failed=not copied)
        return copied

    def copy_from_history(self, latex: str) -> None:
        text = wrap(latex, self.settings.get("output_format"))
        copied, status = self._copy_with_status(text)
        self.notify.emit(
            "SnapTeX", status if not copied else f"Copied {text[:60]}", not copied
        )

    def _copy_with_status(self, text: str) -> tuple[bool, str]:
        try:
            self._copy(text, self.settings.get("clipboard_method"))
        except clipboard.ClipboardError as exc:
            return False, str(exc)
        return True, "Copied ✓"

    def _on_style_chosen(self, style: str) -> None:
        self.settings.set("output_format", style)  # the last choice becomes the default

    def _on_setting_changed(self, key: str, value: Any) -> None:
        if key == "popup_close_s":
            self.popup.auto_close_s = int(value)

    def _remember(
        self, latex: str, message: dict[str, Any], check: self_check.SelfCheck
    ) -> int | None:
        if self.history is None:
            return None
        image = self._current_image
        known = self_check.has_check(message)  # older workers say nothing
        try:
            return self.history.add(
                latex,
                str(message.get("latex_raw", "")),
                _as_float(message.get("confidence")),
                self.model_name(),
                thumbnail_png(image) if image is not None else None,
                needs_check=check.needs_check if known else None,
                check_reason=check.reason if known else None,
            )
        except sqlite3.Error as exc:
            logger.exception("history write failed")
            self.notify.emit("History", f"Could not save to history: {exc}", True)
            return None

    def model_name(self) -> str:
        folder = self.settings.get("model_dir")
        return str(
            self.worker.info.get("model")
            or (Path(folder).name if folder else "bundled")
        )

    # -- small helpers -------------------------------------------------------------

    def _show_failure(self, title: str, text: str) -> None:
        self.popup.show_message(title, text)
        self.notify.emit(title, text, True)

    def _busy_detail(self) -> str:
        if self.worker.state.value == "loading":
            return f"Waiting for the recogniser: {self.worker.detail}"
        return f"{int(time.monotonic() - self._started)} s"

    def _update_busy_detail(self, *_args: object) -> None:
        if self.phase is Phase.RECOGNISING:
            self.popup.set_busy_detail(self._busy_detail())

    def _resting_phase(self) -> Phase:
        return Phase.RECOGNISING if self.current_id else Phase.IDLE

    def _set_phase(self, phase: Phase) -> None:
        if phase is not self.phase:
            logger.debug("phase %s -> %s", self.phase.value, phase.value)
            self.phase = phase
            self.phase_changed.emit(phase.value)


def _as_float(value: Any) -> float | None:
    try:
        return None if value is None else float(value)
    except (TypeError, ValueError):
        return None
