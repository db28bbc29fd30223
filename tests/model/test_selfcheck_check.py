"""From signals to what the user reads: confidence, flag, reason and region."""

from __future__ import annotations

import pytest

from model.selfcheck.calibrate import Calibration
from model.selfcheck.check import REASONS, assess, layout_differs

# One standardised signal per group; a positive coefficient: higher is more trusted.
CALIBRATION = Calibration(
    features=("logp_mean", "beam_gap", "rt_missing"), mean=(0.0, 0.0, 0.0),
    scale=(1.0, 1.0, 1.0), coef=(2.0, 1.0, -3.0), intercept=0.0, threshold=0.5)
MODEL_ONLY = Calibration(("logp_mean",), (0.0,), (1.0,), (2.0,), 0.0, 0.5)
REGION = (0.1, 0.2, 0.3, 0.9)


@pytest.mark.parametrize(
    ("calibration", "features", "flagged", "reason", "region"),
    [
        (CALIBRATION, {"logp_mean": 1.0, "beam_gap": 1.0, "rt_missing": 0.0}, False,
         None, None),
        (CALIBRATION, {"logp_mean": -1.0, "beam_gap": 0.0, "rt_missing": 0.0}, True,
         REASONS["logp"], None),
        (CALIBRATION, {"logp_mean": 0.0, "beam_gap": -1.0, "rt_missing": 0.0}, True,
         REASONS["beam"], None),
        (CALIBRATION, {"logp_mean": 0.5, "beam_gap": 0.0, "rt_missing": 1.0}, True,
         REASONS["rt"], list(REGION)),
        # A calibration without the round trip still blames a clearly misplaced render.
        (MODEL_ONLY, {"logp_mean": -1.0, "rt_failed": 0.0, "rt_missing": 0.3,
                      "rt_extra": 0.1}, True, REASONS["rt"], list(REGION)),
        (MODEL_ONLY, {"logp_mean": -1.0, "rt_failed": 0.0, "rt_missing": 0.05,
                      "rt_extra": 0.05}, True, REASONS["logp"], None),
    ],
)
def test_assess(calibration, features, flagged, reason, region):
    check = assess(features, REGION, calibration, fallback_confidence=0.0)
    assert check.needs_check is flagged
    assert check.check_reason == reason
    assert check.check_region == region
    assert 0.0 <= check.confidence <= 1.0


def test_layout_blame_without_a_region_says_so_in_words():
    check = assess({"logp_mean": 0.5, "beam_gap": 0.0, "rt_missing": 1.0}, None,
                   CALIBRATION, 0.0)
    assert check.needs_check and check.check_region is None
    assert "layout" in check.check_reason


@pytest.mark.parametrize(
    ("confidence", "flagged"), [(0.95, False), (0.5, True)])
def test_uncalibrated_folders_use_the_token_probability(confidence, flagged):
    check = assess({"logp_mean": -3.0}, None, None, fallback_confidence=confidence)
    assert check.confidence == confidence and check.needs_check is flagged


@pytest.mark.parametrize(
    ("features", "differs"),
    [
        ({}, False),
        ({"rt_failed": 1.0, "rt_missing": 0.5, "rt_extra": 0.5}, False),  # no verdict
        ({"rt_failed": 0.0, "rt_missing": 0.15, "rt_extra": 0.1}, True),
        ({"rt_failed": 0.0, "rt_missing": 0.1, "rt_extra": 0.05}, False),
    ],
)
def test_layout_differs(features, differs):
    assert layout_differs(features) is differs
