"""The image-reliance diagnostic: true pairs against shuffled images."""

from __future__ import annotations

import pytest
from PIL import Image, ImageDraw

from training.evaluate.reliance import Reliance, derangement, image_reliance


@pytest.mark.parametrize(("n", "seed"), [(2, 0), (3, 1), (8, 2), (16, 3), (12, 4)])
def test_derangement_moves_every_row(n, seed):
    order = derangement(n, seed)
    assert sorted(order) == list(range(n))
    assert all(order[i] != i for i in range(n))


def test_derangement_needs_two_rows():
    with pytest.raises(ValueError, match="at least 2"):
        derangement(1, 0)


def test_gap_is_shuffled_minus_true():
    assert Reliance(true_loss=1.0, shuffled_loss=1.5, rows=4).to_dict()["gap"] == 0.5


def _image(text: str) -> Image.Image:
    image = Image.new("RGB", (120, 30), "white")
    ImageDraw.Draw(image).text((4, 8), text, fill="black")
    return image


def test_reliance_runs_the_model_on_both_orders(tmp_path):
    from conftest import corpus
    from transformers import AutoProcessor, VisionEncoderDecoderModel

    from training.models.bundled import BundledCollator, build
    from training.recipe import load_recipe

    build(corpus(400), "tiny", seed=0, out_dir=tmp_path)
    processor = AutoProcessor.from_pretrained(tmp_path, local_files_only=True)
    model = VisionEncoderDecoderModel.from_pretrained(tmp_path, local_files_only=True)
    collate = BundledCollator(processor, load_recipe("bundled-tiny"))
    texts = ["x^{2}", "a+b", "\\frac{1}{2}", "y=mx+c", "\\alpha", "z_{i}"]
    batches = [collate([{"image": _image(t), "text": t} for t in texts[i:i + 3]])
               for i in (0, 3)]
    result = image_reliance(model, batches, seed=0)
    assert result.rows == 6
    assert result.true_loss > 0 and result.shuffled_loss > 0
    # Shuffling changes the pixels each label is scored against, so the loss moves.
    assert result.true_loss != result.shuffled_loss
    assert 0.0 < result.encoder_spread < 10.0  # a fresh encoder tells images apart


def test_missing_folder_is_one_line(tmp_path, capsys):
    from training.evaluate.reliance import main

    assert main(["--model", str(tmp_path / "nope")]) == 2
    expected = f"reliance: error: no model folder at {tmp_path / 'nope'}"
    assert capsys.readouterr().err.strip() == expected
