"""Collators: the seed tutorial's batch layout, shapes and -100 masking."""

import pytest
import torch
from PIL import Image, ImageDraw

from model.options import SEED_PROMPT
from training.data.collators import (
    IGNORE_INDEX,
    ImagePreparer,
    PixelCollator,
    PromptedCollator,
    TargetEncoder,
    make_collator,
)
from training.recipe import Recipe


def drawing(size=(160, 40), mode="RGB", bg="white", fg="black"):
    image = Image.new(mode, size, bg)
    ImageDraw.Draw(image).text((10, 10), "x^2+1", fill=fg if mode != "L" else 0)
    return image


@pytest.fixture(scope="module")
def processor(tiny_model_dir):
    from transformers import AutoProcessor

    return AutoProcessor.from_pretrained(tiny_model_dir)


def examples():
    return [
        {"image": drawing(), "text": r"x ^ { 2 }"},
        {
            "image": drawing((300, 60), mode="L", bg=255),
            "text": r"\frac { a + b } { c } = \sqrt { d }",
        },
        {"image": drawing((80, 30), mode="RGBA", bg=(255, 255, 255, 0)), "text": "y"},
    ]


def test_prompted_batch_shapes_and_image_tokens(processor):
    collator = PromptedCollator(
        processor, SEED_PROMPT, TargetEncoder(processor.tokenizer)
    )
    batch = collator(examples())
    mm_tokens = processor.image_seq_length
    image_id = processor.tokenizer.image_token_id
    assert batch["pixel_values"].shape[0] == 3  # one image per sample
    assert batch["pixel_values"].shape[1] == 3  # converted to RGB, whatever came in
    # Every sample carries exactly one image's worth of placeholders: nothing truncated.
    per_sample = (batch["input_ids"] == image_id).sum(dim=1)
    assert per_sample.tolist() == [mm_tokens] * 3
    assert batch["labels"].shape[0] == 3


def test_labels_mask_padding_and_nothing_else(processor):
    texts = [ex["text"] for ex in examples()]
    labels = TargetEncoder(processor.tokenizer)(texts)
    plain = [processor.tokenizer(t)["input_ids"] for t in texts]
    assert labels.shape[1] == max(map(len, plain))  # padded to the longest
    for row, ids in zip(labels.tolist(), plain, strict=False):
        assert row[: len(ids)] == ids  # real tokens kept as they are
        assert row[len(ids) :] == [IGNORE_INDEX] * (len(row) - len(ids))


def test_targets_truncate_to_max_length_and_can_pad_to_it(processor):
    long_text = " ".join(["x"] * 400)
    truncated = TargetEncoder(processor.tokenizer, max_length=256)([long_text])
    assert truncated.shape == (1, 256)
    assert (truncated != IGNORE_INDEX).all()
    padded = TargetEncoder(processor.tokenizer, max_length=32, padding="max_length")(
        ["x"]
    )
    assert padded.shape == (1, 32)
    assert (padded == IGNORE_INDEX).sum() == 32 - len(
        processor.tokenizer("x")["input_ids"]
    )


def test_add_eos_ends_every_target_with_eos(processor):
    labels = TargetEncoder(processor.tokenizer, add_eos=True)(
        ["x", r"\frac { 1 } { 2 }"]
    )
    eos = processor.tokenizer.eos_token_id
    for row in labels.tolist():
        real = [t for t in row if t != IGNORE_INDEX]
        assert real[-1] == eos
        assert real.count(eos) == 1


def test_pixel_collator_passes_only_pixels_and_labels(processor):
    collator = PixelCollator(processor, TargetEncoder(processor.tokenizer))
    batch = collator(examples())
    assert set(batch) == {"pixel_values", "labels"}
    assert batch["pixel_values"].shape[:2] == (3, 3)


def test_make_collator_follows_the_recipe(processor):
    base = {"name": "t", "model": "x", "datasets": ["d"]}
    prompted = make_collator(processor, Recipe.from_dict(base))
    pixel = make_collator(processor, Recipe.from_dict({**base, "prompt": None}))
    custom = make_collator(
        processor,
        Recipe.from_dict(
            {
                **base,
                "collator": "tests.training.test_collators:RecordingCollator",
                "collator_args": {"flag": 7},
            }
        ),
    )
    assert isinstance(prompted, PromptedCollator)
    assert isinstance(pixel, PixelCollator)
    assert isinstance(custom, RecordingCollator)
    assert custom.flag == 7


class RecordingCollator:
    def __init__(self, processor, recipe, flag):
        self.processor, self.recipe, self.flag = processor, recipe, flag


def test_preprocess_gives_training_the_inference_pixels():
    from model.preprocess import prepare

    dark = drawing((200, 60), bg="black", fg="white")
    prepared = ImagePreparer(preprocess=True)(dark)
    assert prepared.tobytes() == prepare(dark).convert("RGB").tobytes()
    assert prepared.getpixel((0, 0)) == (255, 255, 255)  # dark mode inverted
    assert ImagePreparer()(dark).size == (200, 60)  # off: only RGB conversion
    blank = Image.new("RGB", (50, 50), "white")
    assert ImagePreparer(preprocess=True)(blank).size == (50, 50)  # kept, not a crash


def test_letterbox_pads_to_the_ratio():
    boxed = ImagePreparer(letterbox=1.0)(drawing((200, 50)))
    assert boxed.size == (200, 200)
    assert boxed.getpixel((0, 0)) == (255, 255, 255)


def test_collated_batch_trains(tiny_model_dir, processor):
    from transformers import AutoModelForImageTextToText

    model = AutoModelForImageTextToText.from_pretrained(tiny_model_dir)
    batch = PromptedCollator(
        processor, SEED_PROMPT, TargetEncoder(processor.tokenizer)
    )(examples())
    loss = model(**batch).loss
    assert torch.isfinite(loss)
