"""Gated hub weights (Gemma's licence): the error says how to get them."""

import pytest

from training.models.pretrained import load_pretrained_from
from training.recipe import RecipeError, load_recipe


@pytest.mark.parametrize(("message", "hinted"), [
    ("You are trying to access a gated repo.\nMake sure to have access to it", True),
    ("401 Client Error. (Request ID: x)", True),
    ("google/t5gemma-2-270m-270m does not appear to have a file named config.json", False),
])
def test_gated_weights_say_how_to_get_them(message, hinted, monkeypatch):
    def refuse(*args, **kwargs):
        raise OSError(message)

    monkeypatch.setattr("transformers.AutoProcessor.from_pretrained", refuse)
    recipe = load_recipe("t5gemma2-a100")
    with pytest.raises(RecipeError) as error:
        load_pretrained_from(recipe)
    text = str(error.value)
    assert text.startswith("cannot load model google/t5gemma-2-270m-270m: ")
    assert ("HF_TOKEN" in text and "huggingface.co/google/t5gemma-2-270m-270m" in text) is hinted
