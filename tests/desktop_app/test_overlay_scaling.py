"""Overlay drag -> crop at QT_SCALE_FACTOR 1, 1.25, 1.5, 2, on one and two screens.

Each case runs overlay_probe.py in a subprocess (the factor must be set before the
QApplication exists). The injected frame encodes pixel coordinates, so the crop's
corner pixels prove which physical pixels were selected.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

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


def run_probe(tmp_path, factor: str, two_screens: bool) -> list[dict]:
    platform = "offscreen"
    if two_screens:
        config = tmp_path / "screens.json"
        config.write_text(json.dumps(TWO_SCREENS))
        platform = f"offscreen:configfile={config}"
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": platform,
        "QT_SCALE_FACTOR": factor,
        "PYTHONPATH": str(REPO),
    }
    done = subprocess.run(
        [sys.executable, str(HERE / "overlay_probe.py")],
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


def expected_physical(logical: int, physical_size: int, logical_size: int) -> float:
    return logical * physical_size / logical_size


@pytest.mark.parametrize(
    "two_screens", [False, True], ids=["one-screen", "two-screens"]
)
@pytest.mark.parametrize("factor", ["1", "1.25", "1.5", "2"])
def test_crop_matches_the_dragged_region(tmp_path, factor, two_screens):
    reports = run_probe(tmp_path, factor, two_screens)
    assert len(reports) == (2 if two_screens else 1)
    for report in reports:
        gx, gy, gw, gh = report["geometry"]
        iw, ih = report["image"]
        # the grab is in physical pixels: logical size x factor (offscreen dpr=1)
        assert abs(iw - gw * float(factor)) <= 1 and abs(ih - gh * float(factor)) <= 1
        (sx, sy), (ex, ey) = report["start"], report["end"]
        ww, wh = report["window"]
        # the crop's first pixel is the physical pixel under the drag start ...
        fx, fy = report["first"]
        assert abs(fx - expected_physical(sx, iw, ww)) <= 1
        assert abs(fy - expected_physical(sy, ih, wh)) <= 1
        # ... and its last pixel the one just before the drag end (half-open)
        lx, ly = report["last"]
        assert abs(lx - (expected_physical(ex, iw, ww) - 1)) <= 1
        assert abs(ly - (expected_physical(ey, ih, wh) - 1)) <= 1
        assert report["crop_size"] == [lx - fx + 1, ly - fy + 1]
        # the popup anchor is on this screen, at the logical drag start
        ax, ay, _, _ = report["anchor"]
        assert (ax, ay) == (gx + sx, gy + sy)
        assert report["overlays_closed"]


def test_second_screen_crop_comes_from_its_own_frame(tmp_path):
    # Qt 6 keeps the right screen's origin at x=1920 device px while halving its size;
    # a crop via global coordinates would miss it. Window-local mapping must not.
    reports = run_probe(tmp_path, "2", two_screens=True)
    right = next(r for r in reports if r["screen"] == "right")
    assert right["geometry"] == [1920, 0, 640, 400]
    assert right["image"] == [1280, 800]
    assert right["first"][0] < 1280
