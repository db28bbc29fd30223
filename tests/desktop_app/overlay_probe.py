"""Run as a script (not collected): overlays under the current QT_SCALE_FACTOR and
QT_QPA_PLATFORM, with a coordinate-encoding frame injected per screen.

Each pixel encodes its own position (r = x & 255, g = y & 255, b = high bits), so the
crop's corner pixels tell exactly which screenshot pixels the selection mapped to.
Prints one JSON object per screen. The scale factor has to be set before the
QApplication exists, hence a subprocess per factor.
"""

from __future__ import annotations

import json
import sys

import numpy as np
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QImage
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from desktop_app.capture import ScreenShot, grab_all_screens
from desktop_app.ui.overlay import OverlaySet, crop


def coordinate_image(width: int, height: int, ratio: float) -> QImage:
    ys, xs = np.mgrid[0:height, 0:width].astype(np.uint32)
    blue = ((xs >> 8) & 15) << 4 | ((ys >> 8) & 15)
    argb = (0xFF << 24) | ((xs & 255) << 16) | ((ys & 255) << 8) | blue
    data = np.ascontiguousarray(argb, dtype=np.uint32)
    image = QImage(
        data.tobytes(), width, height, width * 4, QImage.Format.Format_RGB32
    ).copy()
    image.setDevicePixelRatio(ratio)
    return image


def decode(image: QImage, x: int, y: int) -> tuple[int, int]:
    rgb = image.pixel(x, y)
    red, green, blue = (rgb >> 16) & 255, (rgb >> 8) & 255, rgb & 255
    return red | ((blue >> 4) << 8), green | ((blue & 15) << 8)


def drag(window, start: QPoint, end: QPoint) -> None:
    QTest.mousePress(
        window, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start
    )
    QTest.mouseMove(window, end)
    QTest.mouseRelease(
        window, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, end
    )


def probe_screen(shots: list[ScreenShot], index: int) -> dict:
    overlays = OverlaySet(shots)
    overlays.open()
    QApplication.processEvents()
    window = overlays.windows[index]
    got = []
    overlays.selected.connect(
        lambda shot, pixels, anchor: got.append((shot, pixels, anchor))
    )
    w, h = window.width(), window.height()
    start, end = QPoint(w // 4 + 1, h // 3), QPoint(w * 3 // 5, h * 2 // 3 + 1)
    drag(window, start, end)
    shot, pixels, anchor = got[0]
    image = crop(shot, pixels)
    return {
        "screen": shot.name,
        "index": index,
        "dpr": shot.image.devicePixelRatio(),
        "geometry": [
            shot.geometry.x(),
            shot.geometry.y(),
            shot.geometry.width(),
            shot.geometry.height(),
        ],
        "window": [w, h],
        "image": [shot.image.width(), shot.image.height()],
        "start": [start.x(), start.y()],
        "end": [end.x(), end.y()],
        "crop_size": [image.width(), image.height()],
        "first": decode(image, 0, 0),
        "last": decode(image, image.width() - 1, image.height() - 1),
        "anchor": [anchor.x(), anchor.y(), anchor.width(), anchor.height()],
        "overlays_closed": not overlays.windows,
    }


def main() -> int:
    app = QApplication(sys.argv[:1])
    grabbed = grab_all_screens("qt")
    shots = [
        ScreenShot(
            s.index,
            s.name,
            s.geometry,
            coordinate_image(
                s.image.width(), s.image.height(), s.image.devicePixelRatio()
            ),
        )
        for s in grabbed
    ]
    for index in range(len(shots)):
        print(json.dumps(probe_screen(shots, index)))
    app.processEvents()
    return 0


if __name__ == "__main__":
    sys.exit(main())
