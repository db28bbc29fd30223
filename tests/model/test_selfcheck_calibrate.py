"""Calibration maths: the logistic fit, AUROC, thresholds, reliability bins."""

from __future__ import annotations

import numpy as np
import pytest

from model.selfcheck import calibrate


@pytest.mark.parametrize(
    ("scores", "positive", "expected"),
    [
        ([0.9, 0.8, 0.2, 0.1], [True, True, False, False], 1.0),
        ([0.1, 0.2, 0.8, 0.9], [True, True, False, False], 0.0),
        ([0.5, 0.5], [True, False], 0.5),  # a tie counts half
        ([0.9, 0.3, 0.6, 0.1], [True, False, True, True], 2 / 3),
    ],
)
def test_auroc(scores, positive, expected):
    assert calibrate.auroc(scores, positive) == pytest.approx(expected)


def test_auroc_of_one_class_is_undefined():
    assert np.isnan(calibrate.auroc([0.1, 0.2], [True, True]))


@pytest.mark.parametrize(
    ("confidence", "right", "threshold", "rates"),
    [
        ([0.2, 0.4, 0.9, 0.6], [False, False, True, True], 0.5, (1.0, 0.0)),
        ([0.2, 0.7, 0.9, 0.3], [False, False, True, True], 0.5, (0.5, 0.5)),
        ([0.2, 0.7], [False, True], 0.0, (0.0, 0.0)),  # threshold 0 flags nothing
    ],
)
def test_flag_rates(confidence, right, threshold, rates):
    assert calibrate.flag_rates(confidence, right, threshold) == pytest.approx(rates)


@pytest.mark.parametrize(
    ("confidence", "right", "catch", "flagged_wrong"),
    [
        ([0.1, 0.2, 0.3, 0.4, 0.9], [False] * 4 + [True], 0.75, 3),
        ([0.1, 0.2, 0.3, 0.4, 0.9], [False] * 4 + [True], 1.0, 4),
        ([0.5, 0.5, 0.9], [False, False, True], 0.5, 2),  # ties go together
    ],
)
def test_threshold_for_catch_flags_the_asked_share(confidence, right, catch, flagged_wrong):
    threshold = calibrate.threshold_for_catch(confidence, right, catch)
    flagged = [c < threshold for c, r in zip(confidence, right, strict=False) if not r]
    assert sum(flagged) == flagged_wrong


def test_fit_separates_and_round_trips_through_json():
    rng = np.random.default_rng(0)
    good = rng.normal(1.0, 0.5, size=(200, 1))
    bad = rng.normal(-1.0, 0.5, size=(200, 1))
    rows = [{"s": float(v), "noise": float(n)} for v, n in
            zip(np.vstack([good, bad])[:, 0], rng.normal(size=400), strict=True)]
    right = [True] * 200 + [False] * 200
    fitted = calibrate.fit(rows, right, ("s", "noise"), l2=1.0)
    confidence = [fitted.probability(r) for r in rows]
    assert calibrate.auroc(confidence, right) > 0.95
    assert abs(fitted.coef[0]) > 5 * abs(fitted.coef[1])  # the signal, not the noise
    again = calibrate.Calibration.from_dict(fitted.to_dict())
    assert again.probability(rows[0]) == pytest.approx(confidence[0])
    assert 0.0 <= fitted.probability({}) <= 1.0  # missing signals count as the mean


@pytest.mark.parametrize(
    "broken",
    [
        {"coef": [1.0]},  # lengths differ
        {"scale": [0.0, 1.0]},
        {"threshold": 1.5},
    ],
)
def test_from_dict_refuses_broken_calibrations(broken):
    data = {"features": ["a", "b"], "mean": [0, 0], "scale": [1, 1], "coef": [1, 1],
            "intercept": 0.0, "threshold": 0.5, **broken}
    with pytest.raises(ValueError):
        calibrate.Calibration.from_dict(data)


def test_reliability_bins_and_calibration_error():
    confidence = [0.05, 0.15, 0.85, 0.95, 0.95]
    right = [False, False, True, True, False]
    table = calibrate.reliability(confidence, right, bins=10)
    assert [(row["low"], row["count"]) for row in table] == [(0.0, 1), (0.1, 1), (0.8, 1),
                                                             (0.9, 2)]
    assert table[-1]["accuracy"] == 0.5
    assert calibrate.expected_calibration_error(confidence, right) == pytest.approx(
        (0.05 + 0.15 + 0.15 + 2 * 0.45) / 5)
