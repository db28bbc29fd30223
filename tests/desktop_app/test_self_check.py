"""Reading the worker's optional self-check keys: tolerant of absence and junk."""

import math

import pytest

from desktop_app.self_check import DEFAULT_REASON, SelfCheck, from_message, has_check, parse_region


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ([0.1, 0.2, 0.5, 0.9], (0.1, 0.2, 0.5, 0.9)),
        ((0.5, 0.9, 0.1, 0.2), (0.1, 0.2, 0.5, 0.9)),  # corners in any order
        ([-0.5, 0.0, 1.5, 1.0], (0.0, 0.0, 1.0, 1.0)),  # clamped into the image
        ([0.3, 0.3, 0.3, 0.8], None),  # no width
        ([0.1, 0.2, 0.5], None),
        ([0.1, "a", 0.5, 0.9], None),
        ([0.1, math.nan, 0.5, 0.9], None),
        ("0,0,1,1", None),
        (None, None),
    ],
)
def test_parse_region(value, expected):
    assert parse_region(value) == expected


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ({}, SelfCheck()),  # an older worker: nothing known, nothing flagged
        ({"confidence": 0.7}, SelfCheck(confidence=0.7)),
        (
            {
                "confidence": 0.42,
                "needs_check": True,
                "check_reason": " the rendered result differs from the snip here ",
                "check_region": [0.5, 0.1, 0.9, 0.8],
                "a_future_key": 1,
            },
            SelfCheck(
                0.42,
                True,
                "the rendered result differs from the snip here",
                (0.5, 0.1, 0.9, 0.8),
            ),
        ),
        ({"needs_check": "yes"}, SelfCheck()),  # only a real true flags
        ({"needs_check": True, "check_reason": ""}, SelfCheck(needs_check=True)),
        ({"confidence": "high", "check_reason": 3}, SelfCheck()),
        ({"confidence": 7}, SelfCheck(confidence=1.0)),
    ],
)
def test_from_message(message, expected):
    assert from_message(message) == expected


def test_shown_reason_is_one_line_with_a_default():
    assert SelfCheck(needs_check=True).shown_reason == DEFAULT_REASON
    assert SelfCheck(needs_check=True, reason="first\nsecond").shown_reason == "first"


@pytest.mark.parametrize(
    ("message", "expected"),
    [({"confidence": 0.5}, False), ({"needs_check": False}, True), ({"check_region": None}, True)],
)
def test_has_check(message, expected):
    assert has_check(message) is expected
