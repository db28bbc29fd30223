"""Take the README screenshot of the real app under Xvfb (not a test).

The whole real path runs: a "document" window shows an equation image from the
im2latex validation split, the app grabs the X screen (Qt capture handler), an overlay
drag selects the equation, the real worker recognises it with --model, and the popup
appears with its preview. The X screen is then grabbed and cropped around the document
and the popup.

    QT_SCALE_FACTOR=2 xvfb-run -a -s "-screen 0 2400x1600x24" \\
        python tests/integration/screenshot_tool.py --model MODEL_DIR
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from PySide6.QtCore import QEventLoop, QPoint, QRect, QSettings, Qt
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QLabel, QVBoxLayout, QWidget

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from desktop_app import APP_ID  # noqa: E402
from desktop_app.composition import SnapTeXApp  # noqa: E402
from desktop_app.controller import Phase  # noqa: E402
from desktop_app.settings import Settings  # noqa: E402

IM2LATEX = REPO.parent / "shared" / "data" / "im2latex-100k"


def equation_image(row: int, split: str = "test") -> tuple[QImage, str]:
    """An im2latex equation; the test split by default, which no SnapTeX model trains on."""
    import pyarrow.parquet as pq

    table = pq.read_table(
        sorted((IM2LATEX / split).glob("*.parquet"))[0], columns=["image", "text"]
    )
    record = table.slice(row, 1).to_pylist()[0]
    image = QImage.fromData(record["image"]["bytes"])
    return image, record["text"]


def desktop_backdrop(app: QApplication) -> QWidget:
    """A plain desktop behind everything (Xvfb's root window is black)."""
    backdrop = QWidget(None, Qt.WindowType.FramelessWindowHint)
    backdrop.setStyleSheet(
        "background: qlineargradient(x1:0, y1:0, x2:1, y2:1,"
        " stop:0 #dfe5ee, stop:1 #c9d3e0);"
    )
    backdrop.setGeometry(app.primaryScreen().geometry())
    backdrop.show()
    return backdrop


def document_window(image: QImage) -> tuple[QWidget, QLabel]:
    window = QWidget(None, Qt.WindowType.FramelessWindowHint)
    window.setStyleSheet(
        "QWidget { background: white; color: #1d1d1f; }"
        "QLabel#h { font-size: 20px; font-weight: 600; }"
    )
    title = QLabel("Lemma 3.2")
    title.setObjectName("h")
    before = QLabel("For the barycentric coordinates of the regular simplex one finds")
    equation = QLabel()
    equation.setPixmap(
        QPixmap.fromImage(
            image.scaledToHeight(
                max(60, image.height() * 2), Qt.TransformationMode.SmoothTransformation
            )
        )
    )
    equation.setAlignment(Qt.AlignmentFlag.AlignCenter)
    layout = QVBoxLayout(window)
    layout.setContentsMargins(48, 36, 48, 36)
    layout.setSpacing(18)
    for widget in (title, before, equation):
        layout.addWidget(widget)
    window.move(60, 60)
    window.show()
    return window, equation


def wait_for(predicate, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        QApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
        if predicate():
            return True
        time.sleep(0.02)
    return False


def drag_over(parts: SnapTeXApp, target: QRect, pad: QPoint | None = None) -> None:
    """Drag over ``target`` on the first overlay, ``pad`` beyond it on each side (by
    default a loose selection, as people drag)."""
    pad = QPoint(14, 10) if pad is None else pad
    window = parts.controller.overlays.windows[0]
    start = window.mapFromGlobal(target.topLeft() - pad)
    end = window.mapFromGlobal(target.bottomRight() + pad)
    QTest.mousePress(
        window, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start
    )
    QTest.mouseMove(window, end)
    QTest.mouseRelease(
        window, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, end
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True)
    parser.add_argument(
        "--out", default=str(REPO / "desktop_app" / "resources" / "screenshot.png")
    )
    parser.add_argument("--row", type=int, default=17, help="row of --split to show")
    parser.add_argument("--split", default="test", help="im2latex split (default test)")
    parser.add_argument("--format", default="bracket")
    parser.add_argument("--max-new-tokens", type=int, default=512)
    # design review only: any worker argv (e.g. the fake worker); never for the README
    parser.add_argument("--worker-command", help=argparse.SUPPRESS)
    args = parser.parse_args()
    app = QApplication(sys.argv[:1])
    app.setApplicationName(APP_ID)
    scratch = Path(tempfile.mkdtemp())
    settings = Settings(QSettings(str(scratch / "s.ini"), QSettings.Format.IniFormat))
    settings.set("output_format", args.format)
    settings.set("model_dir", args.model)
    settings.set("device", "cpu")
    settings.set("max_new_tokens", args.max_new_tokens)
    image, truth = equation_image(args.row, args.split)
    print("ground truth:", truth)
    backdrop = desktop_backdrop(app)
    wait_for(lambda: False, 0.3)  # mapped before the document, so it stays below
    document, equation = document_window(image)
    command = args.worker_command.split() if args.worker_command else None
    parts = SnapTeXApp(settings, command, history_path=scratch / "h.sqlite3")
    parts.start()
    if not wait_for(lambda: parts.worker.state.value in ("ready", "error"), 600):
        raise SystemExit("the worker never became ready")
    print("worker:", parts.worker.state.value, parts.worker.detail)
    parts.controller.start_capture()
    wait_for(lambda: parts.controller.phase is Phase.SELECTING, 10)
    target = QRect(equation.mapToGlobal(QPoint(0, 0)), equation.size())
    pixmap_size = equation.pixmap().deviceIndependentSize().toSize()
    target = QRect(
        target.center() - QPoint(pixmap_size.width() // 2, pixmap_size.height() // 2),
        pixmap_size,
    )
    drag_over(parts, target)
    if not wait_for(lambda: parts.controller.phase is Phase.IDLE, 900):
        raise SystemExit("no result")
    wait_for(lambda: False, 1.0)  # let the popup paint
    print("latex:", parts.popup.latex(), "|", parts.popup.status.text())
    screen = app.primaryScreen()
    grab = screen.grabWindow(0)
    area = document.frameGeometry().united(parts.popup.frameGeometry())
    area = area.adjusted(-32, -32, 32, 32).intersected(screen.geometry())
    ratio = grab.devicePixelRatio()  # QPixmap.copy takes device pixels
    grab.copy(
        QRect(
            round(area.x() * ratio),
            round(area.y() * ratio),
            round(area.width() * ratio),
            round(area.height() * ratio),
        )
    ).save(args.out)
    print("saved", args.out)
    parts.shutdown()
    backdrop.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
