"""The bundled architecture: size limit, stock classes, processor round trip offline."""

from __future__ import annotations

import pytest
from PIL import Image

from training.models.bundled import (
    BOS_ID,
    EOS_ID,
    MAX_POSITIONS,
    SHAPES,
    BundledCollator,
    BundledShape,
    build,
    build_model,
    count_parameters,
)
from training.recipe import load_recipe

MAX_BYTES = 120 * 1000 * 1000


def test_full_shape_fits_the_disk_budget_in_float32():
    model = build_model(SHAPES["bundled"], vocab_size=1000)
    assert count_parameters(model) * 4 < MAX_BYTES
    assert model.config.model_type == "vision-encoder-decoder"
    # A ResNet + ViT (DPT-hybrid) encoder: convolutions for locality, learned absolute
    # positions so the decoder knows left from right.
    assert model.config.encoder.model_type == "dpt"
    assert model.config.encoder.is_hybrid
    # Encoder output width must equal the decoder width: no projection layer needed.
    assert SHAPES["bundled"].encoder_width == model.config.decoder.d_model
    assert not hasattr(model, "enc_to_dec_proj")


@pytest.mark.parametrize(("height", "width", "grid"), [
    (64, 1024, (4, 64)), (48, 768, (3, 48)), (32, 512, (2, 32)), (128, 512, (8, 32)),
])
def test_hybrid_grid_of_canvases_it_accepts(height, width, grid):
    from training.models.bundled import hybrid_grid

    assert hybrid_grid(BundledShape(image_height=height, image_width=width)) == grid


@pytest.mark.parametrize(("height", "width", "message"), [
    (64, 512, "square number"),  # 4x32 = 128 tokens: DPT's square position table can't
    (60, 1024, "multiples of 16"),
    (64, 1000, "multiples of 16"),
])
def test_hybrid_grid_refuses_canvases_dpt_cannot_tile(height, width, message):
    from training.models.bundled import hybrid_grid

    with pytest.raises(ValueError, match=message):
        hybrid_grid(BundledShape(image_height=height, image_width=width))


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({}, BundledShape()),
        ({"depths": [1, 1], "heads": [1, 2]}, BundledShape(depths=(1, 1), heads=(1, 2))),
        ({"image_width": 640}, BundledShape(image_width=640)),
        ({"encoder": "hybrid", "cnn_widths": [8, 16, 32]},
         BundledShape(encoder="hybrid", cnn_widths=(8, 16, 32))),
    ],
)
def test_shape_from_dict(data, expected):
    assert BundledShape.from_dict(data) == expected


@pytest.mark.parametrize(
    ("changes", "model_type", "tokens"),
    [
        ({}, "swin", 4 * 16),  # 4-px patches of 32x128, merged once: 4x16
        ({"absolute_positions": False}, "donut-swin", 4 * 16),  # older checkpoints
        ({"encoder": "vit", "patch": 8, "embed_dim": 32, "depths": (1,), "heads": (2,)},
         "vit", 1 + 4 * 16),  # CLS + 4x16 patches
        ({"encoder": "hybrid", "image_width": 512, "embed_dim": 16, "depths": (1,),
          "heads": (2,), "cnn_stem": 8, "cnn_widths": (8, 16, 16), "cnn_depths": (1, 1, 1)},
         "dpt", 1 + 2 * 32),  # CLS + the 2x32 grid at stride 16
    ],
)
def test_encoder_variants_feed_the_decoder(changes, model_type, tokens):
    import dataclasses

    import torch

    shape = dataclasses.replace(SHAPES["tiny"], **changes)
    model = build_model(shape, vocab_size=300)
    assert model.config.encoder.model_type == model_type
    pixels = torch.rand(2, 3, shape.image_height, shape.image_width)
    with torch.no_grad():
        out = model(pixel_values=pixels, decoder_input_ids=torch.full((2, 3), BOS_ID))
    assert out.encoder_last_hidden_state.shape == (2, tokens, shape.encoder_width)
    assert out.logits.shape == (2, 3, 300)


def test_unknown_encoder_is_rejected():
    import dataclasses

    with pytest.raises(ValueError, match="unknown bundled encoder"):
        build_model(dataclasses.replace(SHAPES["tiny"], encoder="resnet"), vocab_size=300)


def test_hybrid_encoder_needs_three_resnet_stages():
    import dataclasses

    shape = dataclasses.replace(SHAPES["tiny-hybrid"], cnn_widths=(8, 16), cnn_depths=(1, 1))
    with pytest.raises(ValueError, match="three ResNet stages"):
        build_model(shape, vocab_size=300)


@pytest.fixture(scope="module")
def tiny_saved(tmp_path_factory):
    from conftest import corpus

    out = tmp_path_factory.mktemp("bundled-tiny")
    build(corpus(400), "tiny", seed=0, out_dir=out)
    return out


def test_saved_folder_reloads_with_auto_classes(tiny_saved):
    from transformers import AutoModelForImageTextToText, AutoProcessor

    processor = AutoProcessor.from_pretrained(tiny_saved, local_files_only=True)
    model = AutoModelForImageTextToText.from_pretrained(tiny_saved, local_files_only=True)
    assert type(processor).__name__ == "DonutProcessor"
    # The PIL backend: no torchvision needed on the user's machine.
    assert type(processor.image_processor).__name__ == "DonutImageProcessorPil"
    assert model.config.decoder.max_position_embeddings == MAX_POSITIONS
    assert model.generation_config.decoder_start_token_id == BOS_ID


@pytest.mark.parametrize("size", [(400, 40), (60, 60), (30, 200), (2000, 50)])
def test_processor_keeps_canvas_size_for_any_aspect(tiny_saved, size):
    from transformers import AutoProcessor

    processor = AutoProcessor.from_pretrained(tiny_saved, local_files_only=True)
    shape = SHAPES["tiny"]
    pixels = processor(images=Image.new("RGB", size, "white"), return_tensors="pt")
    assert tuple(pixels["pixel_values"].shape) == (1, 3, shape.image_height, shape.image_width)


def test_wide_formula_is_not_squashed(tiny_saved):
    """A 10:1 image fills the canvas width and keeps its aspect (padding above/below)."""
    from transformers import AutoProcessor

    processor = AutoProcessor.from_pretrained(tiny_saved, local_files_only=True)
    pixels = processor(images=Image.new("RGB", (1000, 100), "white"),
                       return_tensors="pt")["pixel_values"][0, 0]
    white_rows = (pixels > 0.9).all(dim=1).sum().item()  # padding is black
    expected = round(SHAPES["tiny"].image_width / 10)
    assert abs(white_rows - expected) <= 1


def test_collator_labels_are_clean_latex_with_eos_and_no_bos(tiny_saved):
    from transformers import AutoProcessor

    processor = AutoProcessor.from_pretrained(tiny_saved, local_files_only=True)
    recipe = load_recipe("bundled-tiny")
    collate = BundledCollator(processor, recipe)
    batch = collate([
        {"image": Image.new("RGB", (120, 30), "white"), "text": r"\frac { a } { b }"},
        {"image": Image.new("RGB", (40, 30), "white"), "text": "x"},
    ])
    labels = batch["labels"]
    first = [t for t in labels[0].tolist() if t != -100]
    assert first[-1] == EOS_ID and BOS_ID not in first
    assert processor.tokenizer.decode(first[:-1]) == r"\frac{a}{b}"
    second = labels[1].tolist()
    assert second[second.index(EOS_ID) + 1:] == [-100] * (len(second) - second.index(EOS_ID) - 1)


@pytest.mark.parametrize(
    ("noise", "replaced"), [(0.0, None), (0.5, (0.2, 0.8)), (0.99, (0.9, 1.0))]
)
def test_decoder_noise_replaces_only_input_tokens(tiny_saved, noise, replaced):
    from transformers import AutoProcessor

    processor = AutoProcessor.from_pretrained(tiny_saved, local_files_only=True)
    collate = BundledCollator(processor, load_recipe("bundled-tiny"), decoder_noise=noise)
    text = r"x^{2}+y^{2}=z^{2}+\frac{a}{b}-\sqrt{c}\cdot\alpha\beta\gamma"
    batch = collate([{"image": Image.new("RGB", (120, 30), "white"), "text": text}] * 8)
    clean = BundledCollator(processor, load_recipe("bundled-tiny"))(
        [{"image": Image.new("RGB", (120, 30), "white"), "text": text}] * 8)
    assert batch["labels"].equal(clean["labels"])  # what is scored never changes
    if replaced is None:
        assert "decoder_input_ids" not in batch
        return
    inputs, labels = batch["decoder_input_ids"], batch["labels"]
    assert (inputs[:, 0] == BOS_ID).all()
    shifted = labels[:, :-1]
    tokens = shifted > 3  # ordinary tokens: the only ones noise may touch
    swapped = (inputs[:, 1:] == 3) & tokens
    assert inputs[:, 1:][~tokens & (shifted >= 0)].equal(shifted[~tokens & (shifted >= 0)])
    assert replaced[0] <= swapped.sum().item() / tokens.sum().item() <= replaced[1]


def test_decoder_noise_out_of_range_is_rejected(tiny_saved):
    from transformers import AutoProcessor

    processor = AutoProcessor.from_pretrained(tiny_saved, local_files_only=True)
    with pytest.raises(ValueError, match="decoder_noise"):
        BundledCollator(processor, load_recipe("bundled-tiny"), decoder_noise=1.0)


@pytest.mark.parametrize(
    ("changes", "name", "detail"),
    [
        ({}, "Swin", "learned absolute positions"),
        ({"absolute_positions": False}, "DonutSwin", "relative positions only"),
        ({"encoder": "vit", "patch": 8, "embed_dim": 32, "depths": (1,), "heads": (2,)},
         "ViT", "8-px patches"),
        ({"encoder": "hybrid", "image_width": 512, "embed_dim": 16, "depths": (1,),
          "heads": (2,), "cnn_stem": 8, "cnn_widths": (8, 16, 16), "cnn_depths": (1, 1, 1)},
         "ResNet + ViT (DPT-hybrid)", "widths [8, 16, 16] and depths [1, 1, 1] to stride 16"),
    ],
)
def test_model_card_describes_every_encoder_variant(tmp_path, changes, name, detail):
    import dataclasses

    from training.export.bundled import write_model_card

    shape = dataclasses.replace(SHAPES["tiny"], **changes)
    facts = {"checkpoint": "checkpoint-1", "steps": 1, "batch_size": 2, "samples_seen": 2,
             "last_loss": 6.0, "wall_clock_hours": 0.0, "compute": "0.00 h"}
    write_model_card(tmp_path, build_model(shape, vocab_size=300), facts, None, "", None)
    card = (tmp_path / "README.md").read_text()
    canvas = f"{shape.image_height}x{shape.image_width}"
    assert f"**{name}** encoder over a wide {canvas} canvas" in card
    assert detail in card
