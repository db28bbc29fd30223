"""The xdg-desktop-portal capture handler against a fake portal on a private bus."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import QRect

from desktop_app.capture.handlers.xdg_portal import split_desktop

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
TWO_SCREENS = {
    "synchronousWindowSystem": True,
    "windowFrameMargins": False,
    "screens": [
        {
            "name": "left",
            "x": 0,
            "y": 0,
            "width": 1920,
            "height": 1080,
            "logicalDpi": 96,
            "logicalBaseDpi": 96,
            "dpr": 1,
        },
        {
            "name": "right",
            "x": 1920,
            "y": 0,
            "width": 1280,
            "height": 800,
            "logicalDpi": 96,
            "logicalBaseDpi": 96,
            "dpr": 1,
        },
    ],
}
needs_dbus = pytest.mark.skipif(
    not (shutil.which("dbus-run-session") and shutil.which("gdbus")),
    reason="needs dbus-run-session and gdbus for the fake portal",
)


@pytest.mark.parametrize(
    ("width", "screens", "ratio", "expected"),
    [
        (1920, [QRect(0, 0, 1920, 1080)], 1.0, [QRect(0, 0, 1920, 1080)]),
        (3840, [QRect(0, 0, 1920, 1080)], 2.0, [QRect(0, 0, 3840, 2160)]),
        (
            3200,
            [QRect(0, 0, 1920, 1080), QRect(1920, 0, 1280, 800)],
            1.0,
            [QRect(0, 0, 1920, 1080), QRect(1920, 0, 1280, 800)],
        ),
        (  # a screen left of the primary has a negative origin
            2400,
            [QRect(0, 0, 1600, 900), QRect(-800, 100, 800, 600)],
            1.0,
            [QRect(800, 0, 1600, 900), QRect(0, 100, 800, 600)],
        ),
    ],
)
def test_split_desktop(width, screens, ratio, expected):
    assert split_desktop(width, screens) == (ratio, expected)


def run_probe(tmp_path, code="0", ratio="1"):
    config = tmp_path / "screens.json"
    config.write_text(json.dumps(TWO_SCREENS))
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": f"offscreen:configfile={config}",
        "PYTHONPATH": os.pathsep.join([str(REPO), str(HERE)]),
    }
    done = subprocess.run(
        [
            "dbus-run-session",
            "--",
            sys.executable,
            str(HERE / "portal_probe.py"),
            str(tmp_path),
            code,
            ratio,
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return [
        json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")
    ]


@needs_dbus
@pytest.mark.parametrize("ratio", ["1", "2"])
def test_portal_image_is_split_per_screen(tmp_path, ratio):
    left, right = run_probe(tmp_path, ratio=ratio)
    scale = float(ratio)
    assert (left["screen"], right["screen"]) == ("left", "right")
    assert left["image"] == [1920 * scale, 1080 * scale]
    assert right["image"] == [1280 * scale, 800 * scale]
    assert left["dpr"] == right["dpr"] == scale
    assert left["first"] == [0, 0]
    assert right["first"] == [1920 * scale, 0]  # its frame starts at its own origin
    assert not right["file_left_behind"]  # the temporary grab is removed


@needs_dbus
def test_refused_screenshot_is_a_clear_error(tmp_path):
    (report,) = run_probe(tmp_path, code="1")
    assert report["error"] == "the screenshot was cancelled or not allowed"
