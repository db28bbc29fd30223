"""Run inside ``dbus-run-session`` (not collected): the portal capture handler against
tests/fakes/fake_portal.py, on the offscreen platform of the caller's choosing.

Writes a coordinate-encoding desktop image (see overlay_probe), lets the fake portal
hand it out, and prints one JSON line per captured screen, or {"error": ...}.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from overlay_probe import coordinate_image, decode
from PySide6.QtCore import QRect
from PySide6.QtWidgets import QApplication

from desktop_app.capture import CaptureError
from desktop_app.capture.handlers import xdg_portal

FAKE_PORTAL = Path(__file__).resolve().parents[1] / "fakes" / "fake_portal.py"


def main() -> int:
    scratch, code, ratio = Path(sys.argv[1]), sys.argv[2], float(sys.argv[3])
    app = QApplication(sys.argv[:1])
    desktop = QRect()
    for screen in app.screens():
        desktop = desktop.united(screen.geometry())
    picture = scratch / "portal-shot.png"
    width, height = round(desktop.width() * ratio), round(desktop.height() * ratio)
    coordinate_image(width, height, 1.0).save(str(picture))
    portal = subprocess.Popen(
        [sys.executable, str(FAKE_PORTAL), "--uri", str(picture), "--code", code],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert portal.stdout.readline().strip() == "ready"
    try:
        shots = xdg_portal.capture()
    except CaptureError as exc:
        print(json.dumps({"error": str(exc)}))
        return 0
    finally:
        portal.kill()
    for shot in shots:
        print(
            json.dumps(
                {
                    "screen": shot.name,
                    "geometry": shot.geometry.getRect(),
                    "image": [shot.image.width(), shot.image.height()],
                    "dpr": shot.image.devicePixelRatio(),
                    "first": decode(shot.image, 0, 0),
                    "file_left_behind": picture.exists(),
                }
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
