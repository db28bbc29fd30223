"""HF generate runs the T5Gemma-2 encoder and SigLIP once per image, beams too."""

from __future__ import annotations

import pytest
import torch

from bench.shape_runs import EncoderCounter
from model.images import formula_image
from model.options import SEED_PROMPT


@pytest.mark.parametrize(("beams", "images"), [(1, 1), (4, 1), (3, 2)])
def test_encoder_runs_once_per_generate(tiny_model_dir, beams, images):
    from transformers import AutoModelForSeq2SeqLM, AutoProcessor

    processor = AutoProcessor.from_pretrained(tiny_model_dir)
    model = AutoModelForSeq2SeqLM.from_pretrained(tiny_model_dir).eval()
    encoder = model.get_encoder()
    counters = EncoderCounter(encoder), EncoderCounter(encoder.vision_tower)
    batch_sizes = []
    encoder.vision_tower.register_forward_hook(
        lambda _m, _args, out: batch_sizes.append(int(out.last_hidden_state.shape[0]))
    )
    inputs = processor(
        text=[SEED_PROMPT] * images,
        images=[[formula_image()]] * images,
        return_tensors="pt",
    )
    with torch.no_grad():
        out = model.generate(
            **inputs,
            max_new_tokens=6,
            min_new_tokens=6,
            num_beams=beams,
            do_sample=False,
        )
    assert out.shape[0] == images
    assert [c.calls for c in counters] == [1, 1]
    assert batch_sizes == [images]  # one SigLIP pass per image, not per beam
