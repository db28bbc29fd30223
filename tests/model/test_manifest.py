"""A model folder's snaptex.json: defaults, round trip, validation, unknown keys."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from model.ctc_head import HINT_KEY as CTC_HINT_KEY
from model.ctc_head import CtcDecoding
from model.loading import ctc_decoding_of, self_check_of
from model.manifest import EXTRA_KEYS, INPUT_KEY, SnaptexHints, read_hints, update_hints
from model.selfcheck import HINT_KEY as SELF_CHECK_KEY
from model.selfcheck.calibrate import Calibration
from training.recipe import load_recipe

BUNDLED = Path(__file__).resolve().parents[2] / "model" / "bundled" / "snaptex.json"
BUNDLED_CALIBRATION = json.loads(BUNDLED.read_text())[SELF_CHECK_KEY]


def test_hints_round_trip_and_defaults(tmp_path):
    assert read_hints(tmp_path) == SnaptexHints()
    update_hints(tmp_path, vision_resized_from=896, cpu={"dtype": "bfloat16"}, note="x")
    update_hints(tmp_path, cpu={"static_cache": True, "quantize": "int8-decoder",
                                "decoder_attention": "eager"})
    hints = read_hints(tmp_path)
    assert hints.cpu.quantize == "int8-decoder" and hints.cpu.decoder_attention == "eager"
    assert hints.vision_resized_from == 896
    assert hints.cpu.dtype == "bfloat16" and hints.cpu.static_cache is True
    assert hints.extra == {"note": "x"}


@pytest.mark.parametrize(
    ("hints", "warned"),
    [
        ({"ctc_decoding": {"weight": 0.45}, "input": {"preprocess": True}}, None),
        ({"ctc_rescoring": {"weight": 0.5}}, "ctc_rescoring"),  # a key no reader uses
        ({"cpu": {}, "inputs": {}}, "inputs"),
    ],
)
def test_unknown_hint_keys_are_named_in_a_warning(tmp_path, caplog, hints, warned):
    (tmp_path / "snaptex.json").write_text(json.dumps(hints))
    with caplog.at_level("WARNING", logger="model.manifest"):
        read_hints(tmp_path)
    messages = [r.getMessage() for r in caplog.records]
    if warned is None:
        assert messages == []
    else:
        assert len(messages) == 1 and warned in messages[0]


def test_what_training_writes_is_what_the_loader_reads(tmp_path, caplog):
    """Every section the training tools write reads back without a warning, and the CTC
    hint a CTC-trained recipe writes becomes the loader's CtcDecoding."""
    recipe = load_recipe("bundled")
    hint = recipe.ctc_hint()
    assert hint is not None
    with caplog.at_level("WARNING", logger="model.manifest"):
        update_hints(tmp_path, **{INPUT_KEY: recipe.input_hints(), CTC_HINT_KEY: hint})
        # what training.evaluate.calibrate writes
        update_hints(tmp_path, **{SELF_CHECK_KEY: BUNDLED_CALIBRATION})
        update_hints(tmp_path, prune_vocab={"kept": 10}, vision_resized_from=896,
                     vision_image_size=448, cpu={"quantize": "int8-decoder"})
        hints = read_hints(tmp_path)
    assert [r.getMessage() for r in caplog.records] == []
    assert set(hints.extra) == EXTRA_KEYS
    assert CtcDecoding.from_hint(hints.extra[CTC_HINT_KEY]) == CtcDecoding(
        weight=hint["weight"], first_symbol_id=hint["first_symbol_id"])
    assert ctc_decoding_of(hints) == CtcDecoding.from_hint(hint)
    assert self_check_of(hints) == Calibration.from_dict(BUNDLED_CALIBRATION)


@pytest.mark.parametrize(
    "content",
    ["[1, 2]", "{not json", '{"cpu": {"dtype": "int8"}}', '{"cpu": {"quantize": "int4"}}',
     '{"cpu": {"decoder_attention": "flash"}}'],
)
def test_bad_hints_fall_back_to_defaults(tmp_path, content):
    (tmp_path / "snaptex.json").write_text(content)
    assert read_hints(tmp_path) == SnaptexHints()
