"""Screenshots of the popup's states, the no-tray notice and the history under Xvfb
(not a test; for looking at).

Each scene runs the real app (SnapTeXApp: Qt screen grab, overlay drag, worker client,
popup): a "document" window shows a rendered equation from tests/bundled/data, the
overlay drags over it, and the popup is grabbed from the X screen. The flagged and
can't-preview scenes script the answer with the fake worker (its self-check flags);
the empty-snip scene runs the real worker with the bundled model on a blank region.

    xvfb-run -a -s "-screen 0 1600x1000x24" python tests/integration/popup_screenshots.py
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from PySide6.QtCore import QPoint, QRect, QSettings, Qt
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import QApplication, QLabel, QVBoxLayout, QWidget

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
sys.path.insert(1, str(REPO / "tests"))

from fakes import FAKE_WORKER  # noqa: E402
from screenshot_tool import drag_over, wait_for  # noqa: E402

from desktop_app import APP_ID  # noqa: E402
from desktop_app.composition import NO_TRAY_HINT_SHOWN, SnapTeXApp  # noqa: E402
from desktop_app.controller import Phase  # noqa: E402
from desktop_app.settings import Settings  # noqa: E402

EQUATION = REPO / "tests" / "bundled" / "data" / "eq1_160dpi.png"
LONG_LATEX = (
    r"\mathcal{L}(\theta)=\sum_{i=1}^{N}\log p_\theta(y_i\mid x_i)"
    r"-\lambda\sum_{j=1}^{d}\left|\theta_j\right|"
    r"+\frac{\mu}{2}\sum_{j=1}^{d}\theta_j^{2}+\int_{\Omega}\|\nabla u\|^2\,dx"
)


def document_window() -> tuple[QWidget, QLabel, QLabel]:
    """A page with a heading, a rendered equation and an empty area below it."""
    window = QWidget(None, Qt.WindowType.FramelessWindowHint)
    window.setStyleSheet("QWidget { background: white; color: #1d1d1f; }")
    title = QLabel("<b>Lemma 3.2</b>  For every n one has")
    equation = QLabel()
    equation.setPixmap(QPixmap.fromImage(QImage(str(EQUATION))))
    equation.setAlignment(Qt.AlignmentFlag.AlignCenter)
    blank = QLabel()
    blank.setFixedSize(360, 120)
    layout = QVBoxLayout(window)
    layout.setContentsMargins(40, 30, 40, 30)
    for widget in (title, equation, blank):
        layout.addWidget(widget)
    window.move(60, 60)
    window.show()
    return window, equation, blank


def grab(widgets: list[QWidget], out: Path, margin: int = 16) -> None:
    screen = QApplication.primaryScreen()
    area = widgets[0].frameGeometry()
    for widget in widgets[1:]:
        area = area.united(widget.frameGeometry())
    area = area.adjusted(-margin, -margin, margin, margin).intersected(screen.geometry())
    screen.grabWindow(0, area.x(), area.y(), area.width(), area.height()).save(str(out))
    print("saved", out)


class Scene:
    def __init__(self, scratch: Path, command: list[str] | None, hint_shown=True):
        self.settings = Settings(
            QSettings(str(scratch / f"s{time.monotonic_ns()}.ini"), QSettings.Format.IniFormat)
        )
        self.settings.set("output_format", "raw")
        self.settings.set("popup_close_s", 0)  # stays up for the grab
        self.settings.set("device", "cpu")
        if hint_shown:
            self.settings.set_state(NO_TRAY_HINT_SHOWN, True)
        self.parts = SnapTeXApp(self.settings, command, history_path=scratch / "h.sqlite3")
        self.parts.start()
        if not wait_for(lambda: self.parts.worker.state.value in ("ready", "error"), 300):
            raise SystemExit("the worker never became ready")

    def snip(self, target: QRect) -> None:
        controller = self.parts.controller
        controller.start_capture()
        wait_for(lambda: controller.phase is Phase.SELECTING, 10)
        drag_over(self.parts, target, pad=QPoint(0, 0))  # the exact rectangle
        if not wait_for(lambda: controller.phase is Phase.IDLE, 300):
            raise SystemExit("no answer")
        wait_for(lambda: False, 0.8)  # let the popup paint

    def close(self) -> None:
        self.parts.shutdown()
        wait_for(lambda: False, 0.3)


def around(label: QLabel, pad: int = 8) -> QRect:
    return QRect(label.mapToGlobal(QPoint(0, 0)), label.size()).adjusted(-pad, -pad, pad, pad)


def equation_rect(label: QLabel, pad: int = 4) -> QRect:
    size = label.pixmap().size()
    top_left = label.mapToGlobal(
        QPoint((label.width() - size.width()) // 2, (label.height() - size.height()) // 2)
    )
    return QRect(top_left, size).adjusted(-pad, -pad, pad, pad)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(REPO / "docs" / "screenshots"))
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    app = QApplication(sys.argv[:1])
    app.setApplicationName(APP_ID)
    scratch = Path(tempfile.mkdtemp())
    backdrop = QWidget(None, Qt.WindowType.FramelessWindowHint)
    backdrop.setStyleSheet("background: #d9e0ea;")
    backdrop.setGeometry(app.primaryScreen().geometry())
    backdrop.show()
    wait_for(lambda: False, 0.3)
    document, equation, blank = document_window()
    wait_for(lambda: False, 0.3)

    # 1. a flagged reading, the doubtful region marked on the snip
    scene = Scene(
        scratch,
        [
            *FAKE_WORKER,
            "--latex",
            r"\sum_{k=1}^{n}k^{2}=\frac{n(n+1)(2n+1)}{8}",
            "--confidence",
            "0.46",
            "--needs-check",
            "--check-reason",
            "The rendered result differs from the snip here.",
            "--check-region",
            "0.62,0.0,1.0,1.0",
        ],
    )
    scene.snip(equation_rect(equation))
    grab([document, scene.parts.popup], out / "popup-flagged.png")
    scene.close()

    # 2. LaTeX the previewer cannot draw: a friendly line, the LaTeX editable
    scene = Scene(scratch, [*FAKE_WORKER, "--latex", r"0\xrightarrow{f}A\xrightarrow{g}B\to 0"])
    scene.snip(equation_rect(equation))
    grab([scene.parts.popup], out / "popup-cannot-preview.png")
    scene.close()

    # 3. an empty snip, real worker and bundled model: the message popup, no gap
    scene = Scene(scratch, None)
    scene.snip(around(blank, -10))
    print("message:", scene.parts.popup.message.text())
    grab([scene.parts.popup], out / "popup-empty-snip.png")
    # 4. another message popup: "from clipboard" with no image there
    app.clipboard().setText("not an image")
    scene.parts.popup.hide()
    scene.parts.controller.from_clipboard()
    wait_for(lambda: False, 0.8)
    grab([scene.parts.popup], out / "popup-message.png")

    # 6. the history: an elided long entry, a flagged one
    history = scene.parts.history
    history.add(LONG_LATEX, model="bundled", confidence=0.88, needs_check=False)
    history.add(
        r"\sum_{k=1}^{n}k^{2}=\frac{n(n+1)(2n+1)}{8}",
        model="bundled",
        confidence=0.46,
        needs_check=True,
        check_reason="The rendered result differs from the snip here.",
    )
    history.add(r"e^{i\pi}+1=0", model="bundled", confidence=0.97, needs_check=False)
    scene.parts.popup.hide()
    scene.parts.show_history()
    window = scene.parts.history_window
    window.resize(640, 360)
    window.move(700, 80)
    wait_for(lambda: False, 0.8)
    grab([window], out / "history-elided.png", margin=0)
    scene.close()

    # 5. no system tray (Xvfb has none): the first-run notice window
    scene = Scene(scratch, [*FAKE_WORKER], hint_shown=False)
    wait_for(lambda: False, 0.8)
    notice = scene.parts.tray.notice
    if notice is None or not notice.isVisible():
        raise SystemExit("no notice window: is there a system tray here?")
    grab([notice], out / "no-tray-notice.png")
    scene.close()
    backdrop.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
