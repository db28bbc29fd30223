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
