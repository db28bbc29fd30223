"""Growing the hybrid encoder's ResNet: same readings before training, refused otherwise."""

from __future__ import annotations

import dataclasses
import json

import pytest
import torch

from training.models.bundled import build
from training.models.deepen import check_depths, deepen, deepen_for_recipe, resnet_stages
from training.recipe import RecipeError, load_recipe


@pytest.fixture(scope="module")
def tiny_hybrid(tmp_path_factory):
    from conftest import corpus

    out = tmp_path_factory.mktemp("tiny-hybrid")
    built = build(corpus(300), "tiny-hybrid", seed=0, out_dir=out)
    # Trained weights are not the init's: give every norm a non-zero, non-unit scale so
    # a grown block that is not silent would change the output.
    with torch.no_grad():
        for name, param in built.model.named_parameters():
            if "norm" in name:
                param.add_(0.3)
    built.model.save_pretrained(out)
    (out / "snaptex.json").write_text(json.dumps({"input": {"split_rows": True}}))
    return out


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ([2, 2, 2], [2, 3, 7], None),
        ([2, 2, 2], [2, 2, 2], None),  # no growth is allowed (a no-op)
        ([2, 2, 2], [2, 1, 7], "only grow"),
        ([2, 2, 2], [2, 3], "3 stages"),
    ],
)
def test_check_depths(old, new, message):
    if message is None:
        assert check_depths(old, new) == new
    else:
        with pytest.raises(RecipeError, match=message):
            check_depths(old, new)


def _encode(folder, pixels):
    from transformers import AutoModelForImageTextToText

    model = AutoModelForImageTextToText.from_pretrained(folder, dtype=torch.float32).eval()
    with torch.no_grad():
        return model, model.encoder(pixel_values=pixels).last_hidden_state


def test_grown_model_reads_exactly_as_its_source(tiny_hybrid, tmp_path):
    out = deepen(tiny_hybrid, tmp_path / "grown", [2, 3, 2])
    pixels = torch.randn(2, 3, 32, 512, generator=torch.Generator().manual_seed(0))
    source, before = _encode(tiny_hybrid, pixels)
    grown, after = _encode(out, pixels)
    assert [len(s.layers) for s in resnet_stages(source)] == [1, 1, 1]
    assert [len(s.layers) for s in resnet_stages(grown)] == [2, 3, 2]
    assert torch.equal(before, after)
    # The hints (input handling, self-check) travel with the weights.
    assert json.loads((out / "snaptex.json").read_text()) == {"input": {"split_rows": True}}


def test_grown_blocks_are_trainable(tiny_hybrid, tmp_path):
    """Silent is not dead: the loss reaches the new blocks' last norm."""
    from transformers import AutoModelForImageTextToText

    model = AutoModelForImageTextToText.from_pretrained(
        deepen(tiny_hybrid, tmp_path / "grown", [1, 1, 2]), dtype=torch.float32)
    pixels = torch.randn(1, 3, 32, 512)
    model.encoder(pixel_values=pixels).last_hidden_state.square().sum().backward()
    new_block = resnet_stages(model)[2].layers[1]
    assert new_block.norm3.weight.grad.abs().sum() > 0


def test_recipe_hook_builds_once_into_the_run_folder(tiny_hybrid, tmp_path):
    recipe = load_recipe("bundled-deep")
    recipe = dataclasses.replace(recipe, model=str(tiny_hybrid), output_dir=str(tmp_path / "run"),
                                 build_args={"cnn_depths": [1, 2, 1]})
    model, processor = deepen_for_recipe(recipe)
    assert [len(s.layers) for s in resnet_stages(model)] == [1, 2, 1]
    assert (tmp_path / "run" / "init" / "model.safetensors").is_file()
    assert type(processor).__name__ == "DonutProcessor"


@pytest.mark.parametrize("build_args", [{}, {"cnn_depths": []}])
def test_recipe_hook_needs_depths(tmp_path, build_args):
    recipe = load_recipe("bundled-deep")
    recipe = dataclasses.replace(recipe, build_args=build_args, output_dir=str(tmp_path / "run"))
    with pytest.raises(RecipeError, match="cnn_depths"):
        deepen_for_recipe(recipe)
