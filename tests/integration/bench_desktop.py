"""Print desktop-side latency figures (not a test; no thresholds).

    QT_QPA_PLATFORM=offscreen python tests/integration/bench_desktop.py

Figures: UI import time, first/warm preview render, history commit, PNG encoding of a
large crop, and the WorkerClient round trip to the (zero-work) fake worker, i.e. the
UI-side overhead added to a model's own latency.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
sys.path.insert(1, str(REPO / "tests"))


def timed(func, repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        out.append((time.perf_counter() - start) * 1e3)
    return out


def report(name: str, samples: list[float]) -> None:
    print(
        f"{name:<42} median {statistics.median(samples):8.2f} ms"
        f"   min {min(samples):8.2f}   n={len(samples)}"
    )


def import_time(module: str) -> list[float]:
    code = (
        f"import time; t=time.perf_counter(); import {module}; "
        "print((time.perf_counter()-t)*1e3)"
    )
    return [
        float(
            subprocess.run(
                [sys.executable, "-c", code],
                cwd=REPO,
                text=True,
                capture_output=True,
                check=True,
            ).stdout
        )
        for _ in range(3)
    ]


def main() -> int:
    from fakes import FAKE_WORKER
    from PySide6.QtCore import QEventLoop
    from PySide6.QtGui import QColor, QImage
    from PySide6.QtWidgets import QApplication

    from desktop_app import preview
    from desktop_app.controller import png_bytes
    from desktop_app.history import History
    from desktop_app.worker_client import WorkerClient

    app = QApplication(sys.argv[:1])
    report("import desktop_app.app (forwarding path)", import_time("desktop_app.app"))
    report(
        "import desktop_app.composition (full UI)",
        import_time("desktop_app.composition"),
    )
    report(
        "preview, first render (loads matplotlib)",
        timed(lambda: preview.render("x"), 1),
    )
    report(
        "preview, warm render of a fraction+sum",
        timed(
            lambda: preview.render(r"\sum_{j=1}^{r+1}\bar{x}_j^2=\frac{r(r+1)}{2}"), 20
        ),
    )
    with tempfile.TemporaryDirectory() as folder:
        history = History(Path(folder) / "h.sqlite3", 500)
        report(
            "history add (WAL, synchronous=FULL)",
            timed(lambda: history.add(r"\frac{a}{b}", thumbnail=b"x" * 4000), 50),
        )
        history.close()
    crop = QImage(1200, 300, QImage.Format.Format_RGB32)
    crop.fill(QColor("white"))
    report("PNG encode of a 1200x300 crop", timed(lambda: png_bytes(crop), 20))
    worker = WorkerClient(FAKE_WORKER)
    worker.start()
    while worker.state.value != "ready":
        app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
    png = png_bytes(crop)

    def round_trip():
        done = []
        worker.result_ready.connect(lambda *_: done.append(1))
        worker.predict(png)
        while not done:
            app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 5)
        worker.result_ready.disconnect()

    report("WorkerClient round trip, fake worker", timed(round_trip, 30))
    worker.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
