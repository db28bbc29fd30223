"""InferenceOptions.validate: what a protocol request or a command line may ask for."""

import pytest

from model.options import InferenceOptions


@pytest.mark.parametrize(
    "values",
    [
        {},
        {"num_beams": 1, "max_new_tokens": 1},
        {"num_beams": 16, "max_new_tokens": 2048},
        {"length_penalty": 0.0},
        {"length_penalty": -1.5},  # negative favours short outputs; legal in generate
        {"repetition_penalty": 1.2, "no_repeat_ngram_size": 8},
        {"ctc_weight": None},  # the model folder decides
        {"ctc_weight": 0.0},  # CTC decoding off
        {"ctc_weight": 0.5},
    ],
)
def test_valid_options_pass(values):
    InferenceOptions.from_dict(values)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"num_beams": 0}, "num_beams"),
        ({"num_beams": 17}, "num_beams"),
        ({"max_new_tokens": 0}, "max_new_tokens"),
        ({"max_new_tokens": 4096}, "max_new_tokens"),
        ({"repetition_penalty": 0}, "repetition_penalty"),
        ({"no_repeat_ngram_size": -1}, "no_repeat_ngram_size"),
        ({"length_penalty": float("nan")}, "length_penalty"),
        ({"length_penalty": float("inf")}, "length_penalty"),
        ({"ctc_weight": -0.1}, "ctc_weight"),
        ({"ctc_weight": float("nan")}, "ctc_weight"),
    ],
)
def test_invalid_options_name_the_field(values, message):
    with pytest.raises(ValueError, match=message):
        InferenceOptions.from_dict(values)
