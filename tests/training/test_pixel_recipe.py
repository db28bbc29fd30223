"""The hooks another model plugs in through: a ``build`` function and ``prompt: null``.

A tiny vision-encoder-decoder (pixels in, LaTeX out, no prompt) is built by a builder
named in the recipe and trained by the same entry point as the T5Gemma-2 recipes.
"""

import json
import math

from training.trainer import train

IM2LATEX = "tests/data/im2latex-mini"  # the repository's fixture (tests/data)


def tiny_vision_encoder_decoder(recipe):
    """A ``build`` hook: ``(model, processor)`` from ``recipe.build_args``."""
    from transformers import (
        AutoTokenizer,
        TrOCRConfig,
        TrOCRProcessor,
        VisionEncoderDecoderConfig,
        VisionEncoderDecoderModel,
        ViTConfig,
        ViTImageProcessor,
    )

    tokenizer = AutoTokenizer.from_pretrained(recipe.build_args["tokenizer"])
    encoder = ViTConfig(
        image_size=32,
        patch_size=8,
        hidden_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=64,
    )
    decoder = TrOCRConfig(
        vocab_size=len(tokenizer),
        d_model=32,
        decoder_layers=1,
        decoder_attention_heads=2,
        decoder_ffn_dim=64,
        pad_token_id=0,
        eos_token_id=1,
        bos_token_id=2,
        decoder_start_token_id=2,
    )
    config = VisionEncoderDecoderConfig.from_encoder_decoder_configs(encoder, decoder)
    config.decoder_start_token_id, config.pad_token_id, config.eos_token_id = 2, 0, 1
    model = VisionEncoderDecoderModel(config=config)
    image_processor = ViTImageProcessor(size={"height": 32, "width": 32})
    return model, TrOCRProcessor(image_processor=image_processor, tokenizer=tokenizer)


def test_pixel_only_model_trains_through_the_same_entry_point(tiny_model_dir, tmp_path):
    out = tmp_path / "ved"
    code = train.main(
        [
            "--recipe",
            "debug-tiny-cpu",
            "--dataset",
            IM2LATEX,
            "--output-dir",
            str(out),
            "--train-rows",
            "4",
            "--max-steps",
            "2",
            "--set",
            f"build={__name__}:tiny_vision_encoder_decoder",
            "--set",
            "build_args=" + json.dumps({"tokenizer": str(tiny_model_dir)}),
            "--set",
            "prompt=null",
            "--set",
            "preprocess=true",
        ]
    )
    assert code == 0
    log = json.loads((out / "train_log.json").read_text())
    losses = [e["loss"] for e in log["log_history"] if "loss" in e]
    assert len(losses) == 2
    assert all(math.isfinite(loss) for loss in losses)
    config = json.loads((out / "config.json").read_text())
    assert config["model_type"] == "vision-encoder-decoder"
    assert (out / "processor_config.json").is_file() or (
        out / "preprocessor_config.json"
    ).is_file()
    # The app's loader reads it back (pixel-only adapter) and produces text.
    from PIL import Image, ImageDraw

    from model.loading import load_recognizer
    from model.options import InferenceOptions

    recognizer = load_recognizer(out, device="cpu", dtype="float32")
    assert recognizer.adapter.name == "vision-encoder-decoder"
    image = Image.new("RGB", (200, 50), "white")
    ImageDraw.Draw(image).text((10, 15), "a+b", fill="black")
    prediction = recognizer.recognize(image, InferenceOptions(max_new_tokens=5))
    # Random weights may emit only special tokens; the path must still run end to end.
    assert isinstance(prediction.latex, str) and 0.0 <= prediction.confidence <= 1.0
    assert prediction.timings_ms["generate"] > 0
