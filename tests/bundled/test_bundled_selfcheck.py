"""The shipped model's self-check: its calibration loads from snaptex.json and every
reading carries a confidence, a flag and, when flagged, a reason."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from PIL import Image, ImageOps

from model.errors import ModelLoadError
from model.loading import load_recognizer
from model.selfcheck import HINT_KEY
from model.selfcheck.check import REASONS

BUNDLED = Path(__file__).resolve().parents[2] / "model" / "bundled"
DATA = Path(__file__).parent / "data"
CASES = sorted(DATA.glob("*.png"))[::3]  # a few of the simple equations keep it quick


@pytest.fixture(scope="module")
def recognizer():
    return load_recognizer(BUNDLED, device="cpu", threads=2)


def test_the_bundled_folder_ships_a_calibration(recognizer):
    calibration = recognizer.self_check
    assert calibration is not None
    assert 0 < calibration.threshold < 1
    from training.evaluate.calibrate import MODEL_FEATURES, ROUND_TRIP_FEATURES

    assert set(MODEL_FEATURES) <= set(calibration.features) <= {
        *MODEL_FEATURES, *ROUND_TRIP_FEATURES}


@pytest.mark.parametrize("image_path", CASES, ids=[p.stem for p in CASES])
def test_a_right_reading_is_more_trusted_than_a_mirrored_snip(recognizer, image_path):
    right = recognizer.recognize(Image.open(image_path))
    assert right.latex == image_path.with_suffix(".tex").read_text().strip()
    mirrored = recognizer.recognize(ImageOps.mirror(Image.open(image_path).convert("RGB")))
    assert 0.0 <= mirrored.confidence < right.confidence <= 1.0
    assert mirrored.needs_check
    assert mirrored.check_reason in {*REASONS.values(),
                                     "the rendered result does not match the snip's layout"}
    if mirrored.check_region is not None:
        x0, y0, x1, y1 = mirrored.check_region
        assert 0 <= x0 < x1 <= 1 and 0 <= y0 < y1 <= 1
    if not right.needs_check:
        assert right.check_reason is None and right.check_region is None


def test_a_broken_calibration_is_a_clear_load_error(tmp_path):
    folder = tmp_path / "bundled"
    shutil.copytree(BUNDLED, folder)
    hints = json.loads((folder / "snaptex.json").read_text())
    hints[HINT_KEY] = {**hints[HINT_KEY], "threshold": 2.0}
    (folder / "snaptex.json").write_text(json.dumps(hints))
    with pytest.raises(ModelLoadError, match="self_check"):
        load_recognizer(folder, device="cpu", threads=1)
