"""Mouse-up -> clipboard latency of the whole app path (not a test; no thresholds).

The real pieces run: the controller and overlay (a drag released over a "screen"
holding a rendered equation), the crop and PNG encoding, the WorkerClient and the real
worker process (``python -m model.worker``, bundled model unless --model), the result
handling, the clipboard write (Qt) and the popup. The clock starts at the mouse release
and stops when the clipboard write returns. Images: the rendered equations of
tests/bundled/data, cycled to --snips snips.

    xvfb-run -a python tests/integration/bench_snip_path.py --snips 36
    QT_QPA_PLATFORM=offscreen python tests/integration/bench_snip_path.py
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from PySide6.QtCore import QEventLoop, QPoint, QRect, QSettings, Qt
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from desktop_app import clipboard  # noqa: E402
from desktop_app.capture import ScreenShot  # noqa: E402
from desktop_app.controller import Controller, Phase  # noqa: E402
from desktop_app.history import History  # noqa: E402
from desktop_app.settings import Settings  # noqa: E402
from desktop_app.ui.result_popup import ResultPopup  # noqa: E402
from desktop_app.worker_client import WorkerClient, worker_command  # noqa: E402

DATA = REPO / "tests" / "bundled" / "data"
AT = QPoint(200, 240)  # where the equation sits on the fake screen


def process(timeout_s: float, predicate) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        QApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 5)
        if predicate():
            return True
    return False


def screen_with(equation: QImage, size: tuple[int, int]) -> QImage:
    """A white screen with the equation on it, as a grab would return it."""
    screen = QImage(*size, QImage.Format.Format_RGB32)
    screen.fill(QColor("white"))
    painter = QPainter(screen)
    painter.drawImage(AT, equation)
    painter.end()
    return screen


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--snips", type=int, default=36)
    parser.add_argument("--model", default="", help="model folder (default: bundled)")
    parser.add_argument("--threads", type=int, default=None, help="worker CPU threads")
    parser.add_argument("--beams", type=int, default=None, help="default: the app's")
    args = parser.parse_args()
    app = QApplication(sys.argv[:1])
    scratch = Path(tempfile.mkdtemp())
    settings = Settings(QSettings(str(scratch / "s.ini"), QSettings.Format.IniFormat))
    settings.set("clipboard_method", "qt")
    if args.beams:
        settings.set("num_beams", args.beams)
    threads = args.threads or settings.get("threads")
    images = [QImage(str(p)) for p in sorted(DATA.glob("*.png"))]
    if not images:
        raise SystemExit(f"no images in {DATA}")
    current: list[QImage] = [images[0]]
    stamps: dict[str, float] = {}

    def grab(_method: str) -> list[ScreenShot]:
        screen = app.primaryScreen()
        size = screen.geometry().size() * screen.devicePixelRatio()
        shot = screen_with(current[0], (size.width(), size.height()))
        return [ScreenShot(0, screen.name(), screen.geometry(), shot)]

    def copy(text: str, method: str) -> str:
        used = clipboard.copy_text(text, method)
        stamps["copied"] = time.perf_counter()
        return used

    worker = WorkerClient(worker_command(args.model, "cpu", threads), timeout_s=120)
    popup = ResultPopup()
    history = History(scratch / "h.sqlite3", 500)
    controller = Controller(settings, worker, popup, history, grab=grab, copy=copy)
    worker_ms: list[float] = []
    worker.result_ready.connect(
        lambda _id, message: worker_ms.append(
            float((message.get("timings_ms") or {}).get("total", "nan"))
        )
    )
    started = time.perf_counter()
    worker.start()
    if not process(300, lambda: worker.state.value in ("ready", "error")):
        raise SystemExit("the worker never became ready")
    if worker.state.value == "error":
        raise SystemExit(f"worker error: {worker.detail}")
    print(f"worker ready in {time.perf_counter() - started:.2f} s: {worker.detail}")
    print(
        f"beams {settings.get('num_beams')}, worker threads {threads}, "
        f"{len(images)} images cycled to {args.snips} snips"
    )

    def snip(image: QImage) -> float:
        current[0] = image
        controller.start_capture()
        if not process(10, lambda: controller.phase is Phase.SELECTING):
            raise SystemExit("no overlay")
        window = controller.overlays.windows[0]
        scale = 1 / app.primaryScreen().devicePixelRatio()  # logical per pixel
        box = QRect(AT, image.size()).adjusted(-6, -6, 6, 6)
        start = QPoint(round(box.left() * scale), round(box.top() * scale))
        end = QPoint(round(box.right() * scale), round(box.bottom() * scale))
        QTest.mousePress(window, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start)
        QTest.mouseMove(window, end)
        stamps.pop("copied", None)
        released = time.perf_counter()
        QTest.mouseRelease(window, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, end)
        if not process(120, lambda: "copied" in stamps or popup.message.isVisible()):
            raise SystemExit("no result")
        if "copied" not in stamps:
            worker.close()
            raise SystemExit(f"failed: {popup.message.text()}")
        return stamps["copied"] - released

    first = snip(images[0])
    print(f"first snip after ready (may wait for the warm-up): {first:.3f} s")
    worker_ms.clear()
    samples = [snip(images[i % len(images)]) for i in range(args.snips)]
    model_s = statistics.median(worker_ms) / 1e3
    print(f"of which the worker's own time (image decode + recognition): p50 {model_s:.3f} s")
    print(
        f"mouse-up -> clipboard over {len(samples)} snips: "
        f"p50 {statistics.median(samples):.3f} s, p95 {percentile(samples, 0.95):.3f} s, "
        f"min {min(samples):.3f} s, max {max(samples):.3f} s"
    )
    print("last reading:", popup.latex())
    worker.close()
    history.close()
    popup.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
