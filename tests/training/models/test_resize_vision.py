"""Lower-resolution SigLIP: the resized checkpoint loads with stock classes and runs."""

from __future__ import annotations

import json
import shutil

import pytest
import torch

from model.options import SEED_PROMPT
from training.models.resize_vision import (
    ResizeError,
    interpolate_positions,
    main,
    pooled_tokens,
    resolve_tokens,
)


@pytest.mark.parametrize(
    ("size", "patch", "tokens", "expected"),
    [
        (896, 14, 256, 256),  # released: 64x64 patches pooled 4x4
        (448, 14, 256, 256),  # 32x32 patches pooled 2x2
        (224, 14, 256, 256),  # 16x16 patches, no pooling
        (112, 14, 256, 64),  # 8x8 patches cannot make 16x16 tokens
        (64, 16, 4, 4),
        (16, 16, 4, 1),
    ],
)
def test_pooled_tokens(size, patch, tokens, expected):
    assert pooled_tokens(size, patch, tokens) == expected


def test_pooled_tokens_rejects_partial_patches():
    with pytest.raises(ValueError, match="multiple"):
        pooled_tokens(450, 14, 256)


@pytest.mark.parametrize(
    ("size", "patch", "tokens", "requested", "expected"),
    [
        (448, 14, 256, None, 256),
        (224, 14, 256, None, 256),
        (448, 14, 256, 64, 64),
        (32, 16, 4, None, 4),
        (16, 16, 4, None, 1),
    ],
)
def test_resolve_tokens(size, patch, tokens, requested, expected):
    assert resolve_tokens(size, patch, tokens, requested) == expected


@pytest.mark.parametrize(("size", "requested"), [(450, None), (448, 100), (448, 63)])
def test_resolve_tokens_rejects_bad_geometry(size, requested):
    with pytest.raises(ResizeError):
        resolve_tokens(size, 14, 256, requested)


def test_interpolation_keeps_smooth_tables():
    side, hidden = 8, 3
    rows = torch.arange(side).repeat_interleave(side).float()
    table = torch.stack([torch.full((side * side,), 2.0), rows, -rows], dim=1)
    out = interpolate_positions(table, 4)
    assert out.shape == (16, hidden)
    torch.testing.assert_close(out[:, 0], torch.full((16,), 2.0))  # constants stay
    grid = out[:, 1].reshape(4, 4)
    assert torch.all(grid[1:] > grid[:-1])  # row order preserved
    torch.testing.assert_close(interpolate_positions(table, side), table)


@pytest.fixture(scope="module")
def resized(tiny_model_dir, tmp_path_factory):
    root = tmp_path_factory.mktemp("resize")
    shutil.copytree(tiny_model_dir, root / "src")
    assert main([str(root / "src"), str(root / "half"), "--size", "32"]) == 0
    return root


def test_resized_model_runs_end_to_end_with_stock_classes(resized):
    from PIL import Image
    from transformers import AutoModelForSeq2SeqLM, AutoProcessor

    processor = AutoProcessor.from_pretrained(resized / "half")
    model = AutoModelForSeq2SeqLM.from_pretrained(resized / "half").eval()
    inputs = processor(
        text=SEED_PROMPT,
        images=Image.new("RGB", (200, 50), "white"),
        return_tensors="pt",
    )
    assert tuple(inputs["pixel_values"].shape[-2:]) == (32, 32)
    image_tokens = int(
        (inputs["input_ids"] == processor.tokenizer.image_token_id).sum()
    )
    assert image_tokens == model.config.encoder.mm_tokens_per_image
    assert model.config.encoder.vision_config.image_size == 32
    with torch.no_grad():
        out = model.generate(
            **inputs, max_new_tokens=4, min_new_tokens=4, do_sample=False
        )
    assert out.shape[1] == 5
    hints = json.loads((resized / "half" / "snaptex.json").read_text())
    assert hints["vision_resized_from"] == 64 and hints["needs_finetune"] is True


def test_positions_are_interpolated_from_the_original(resized):
    from transformers import AutoModelForSeq2SeqLM

    def table(folder):
        model = AutoModelForSeq2SeqLM.from_pretrained(folder)
        embeddings = model.get_encoder().vision_tower.embeddings
        return embeddings.position_embedding.weight.detach()

    original, half = table(resized / "src"), table(resized / "half")
    assert half.shape == (4, original.shape[1])
    torch.testing.assert_close(half, interpolate_positions(original, 2))


def test_second_resize_remembers_the_original_size(resized):
    assert main([str(resized / "half"), str(resized / "quarter"), "--size", "16"]) == 0
    hints = json.loads((resized / "quarter" / "snaptex.json").read_text())
    assert hints["vision_resized_from"] == 64 and hints["vision_image_size"] == 16


def test_cli_rejects_bad_size(resized, capsys):
    assert main([str(resized / "src"), str(resized / "bad"), "--size", "33"]) == 2
    assert "multiple" in capsys.readouterr().err
