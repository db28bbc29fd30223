"""A model folder's CTC decoding hint (model/ctc_head.py), table-driven."""

import pytest

from model.ctc_head import CtcDecoding


@pytest.mark.parametrize(
    ("hint", "expected"),
    [
        (None, None),
        ({}, CtcDecoding(0.45, 4)),
        ({"weight": 0.3, "first_symbol_id": 260}, CtcDecoding(0.3, 260)),
        ({"weight": 0}, CtcDecoding(0.0, 4)),
    ],
)
def test_hint_parses(hint, expected):
    assert CtcDecoding.from_hint(hint) == expected


@pytest.mark.parametrize(
    ("hint", "message"),
    [
        ([0.5], "must be an object"),
        ({"weight": -1}, ">= 0"),
        ({"weight": float("nan")}, ">= 0"),
        ({"wieght": 0.5}, "unknown"),
        ({"weight": "heavy"}, "could not convert"),
    ],
)
def test_bad_hints_say_what_is_wrong(hint, message):
    with pytest.raises(ValueError, match=message):
        CtcDecoding.from_hint(hint)
