"""snaptex.json's input hints choose how snips are padded before the processor."""

import pytest

from model.adapters import adapter_for
from model.errors import ModelLoadError


@pytest.mark.parametrize(("model_type", "hints", "letterbox", "anchor"), [
    ("t5gemma2", None, 1.0, "center"),
    ("t5gemma2", {"letterbox": None}, None, "center"),
    ("vision-encoder-decoder", None, None, "center"),
    ("vision-encoder-decoder", {"letterbox": 8.0, "anchor": "top-left"}, 8.0, "top-left"),
    ("vision-encoder-decoder", {"preprocess": True}, None, "center"),
])
def test_hints_set_letterbox_and_anchor(model_type, hints, letterbox, anchor):
    adapter = adapter_for(model_type, hints)
    assert (adapter.letterbox, adapter.anchor) == (letterbox, anchor)


def test_unknown_anchor_is_a_load_error():
    with pytest.raises(ModelLoadError, match="anchor"):
        adapter_for("vision-encoder-decoder", {"letterbox": 8.0, "anchor": "bottom"})


def test_top_left_anchor_reaches_the_pixels():
    from PIL import Image

    seen = []
    adapter = adapter_for("vision-encoder-decoder", {"letterbox": 4.0, "anchor": "top-left"})
    adapter.inputs(lambda images, return_tensors: seen.extend(images) or {},
                   [Image.new("RGB", (20, 10), "black")], prompt="")
    assert seen[0].size == (40, 10) and seen[0].getpixel((39, 0)) == (255, 255, 255)
    assert seen[0].getpixel((0, 0)) == (0, 0, 0)


@pytest.mark.parametrize(("hints", "preprocess", "split_rows"), [
    (None, True, False),  # a folder that says nothing reads blocks whole
    ({"split_rows": True}, True, True),
    ({"preprocess": False, "split_rows": False}, False, False),
    ({"split_rows": None}, True, False),
])
def test_flag_hints(hints, preprocess, split_rows):
    adapter = adapter_for("vision-encoder-decoder", hints)
    assert (adapter.preprocess, adapter.split_rows) == (preprocess, split_rows)


@pytest.mark.parametrize("flag", ["preprocess", "split_rows"])
def test_a_flag_hint_that_is_not_a_bool_is_a_load_error(flag):
    with pytest.raises(ModelLoadError, match=f"input.{flag} must be true or false"):
        adapter_for("vision-encoder-decoder", {flag: "yes"})
