"""CPU execution choices: dtype decision table, CPU flags, threads, folder hints."""

from __future__ import annotations

import json

import pytest

from model import cpu_exec
from model.cpu_exec import (
    choose_dtype,
    cpu_flags,
    cpu_supports_bf16,
    physical_cores,
)

XEON_AMX = "processor\t: 0\nflags\t\t: fpu sse avx2 avx512f amx_bf16 amx_tile\n"
XEON_AVX512_BF16 = "processor\t: 0\nflags\t\t: fpu avx2 avx512f avx512_bf16\n"
LAPTOP_AVX2 = "processor\t: 0\nflags\t\t: fpu sse avx2 fma\n"
ARM = "processor\t: 0\nFeatures\t: fp asimd bf16\n"


@pytest.mark.parametrize(
    ("cpuinfo", "expected"),
    [
        (XEON_AMX, True),
        (XEON_AVX512_BF16, True),
        (LAPTOP_AVX2, False),
        (ARM, False),  # ARM bf16 is not one of the x86 flags oneDNN uses here: fp32
        ("", False),
    ],
)
def test_bf16_support_from_flags(cpuinfo, expected):
    assert cpu_supports_bf16(cpu_flags(cpuinfo)) is expected


@pytest.mark.parametrize(
    ("requested", "hinted", "native", "expected"),
    [
        ("auto", "auto", True, "bfloat16"),
        ("auto", "auto", False, "float32"),
        ("float32", "auto", True, "float32"),  # an explicit request wins over the CPU
        ("bfloat16", "auto", False, "bfloat16"),
        ("auto", "float32", True, "float32"),  # then the model folder's hint
        ("auto", "bfloat16", False, "bfloat16"),
        ("float32", "bfloat16", True, "float32"),
    ],
)
def test_dtype_decision_table(requested, hinted, native, expected):
    assert choose_dtype(requested, hinted, bf16_native=native) == expected


def test_unknown_dtype_is_rejected():
    with pytest.raises(ValueError, match="dtype"):
        choose_dtype("float16", "auto", bf16_native=True)


def test_physical_cores_ignores_hyperthreads(monkeypatch):
    monkeypatch.setattr(
        cpu_exec.os, "sched_getaffinity", lambda _: set(range(8)), raising=False
    )
    blocks = [
        f"processor\t: {i}\nphysical id\t: 0\ncore id\t\t: {i // 2}\n" for i in range(8)
    ]
    assert physical_cores("\n".join(blocks)) == 4


def test_optimize_for_cpu_follows_folder_hints(tiny_model_dir, tmp_path):
    import shutil

    import torch
    from transformers import AutoModelForSeq2SeqLM

    folder = tmp_path / "m"
    shutil.copytree(tiny_model_dir, folder)
    (folder / "snaptex.json").write_text(
        json.dumps({"cpu": {"dtype": "bfloat16", "static_cache": True}})
    )
    model = AutoModelForSeq2SeqLM.from_pretrained(folder)
    model = cpu_exec.optimize_for_cpu(model, dtype="auto")
    assert model.dtype == torch.bfloat16
    assert model.generation_config.cache_implementation == "static"
    assert not model.training
    model = cpu_exec.optimize_for_cpu(model, dtype="float32", static_cache=False)
    assert model.dtype == torch.float32


def _decoder_logits(model, processor):
    import torch

    from model.images import formula_image
    from model.options import SEED_PROMPT

    inputs = processor(text=SEED_PROMPT, images=formula_image(), return_tensors="pt")
    decoder_ids = torch.tensor([[2, 10, 11, 12, 13]])
    with torch.no_grad():
        return model(**inputs, decoder_input_ids=decoder_ids).logits


def test_int8_decoder_hint_quantises_only_the_decoder(tiny_model_dir, tmp_path):
    import shutil

    import torch
    from transformers import AutoModelForSeq2SeqLM, AutoProcessor

    folder = tmp_path / "m"
    shutil.copytree(tiny_model_dir, folder)
    (folder / "snaptex.json").write_text(
        json.dumps({"cpu": {"dtype": "bfloat16", "quantize": "int8-decoder"}})
    )
    processor = AutoProcessor.from_pretrained(folder)
    reference = AutoModelForSeq2SeqLM.from_pretrained(folder).eval()
    model = cpu_exec.optimize_for_cpu(AutoModelForSeq2SeqLM.from_pretrained(folder))

    assert model.dtype == torch.float32  # int8 kernels take fp32 activations
    vision = model.get_encoder().vision_tower
    assert vision.dtype == torch.bfloat16  # the hinted bf16 still serves SigLIP
    plain = torch.nn.Linear
    decoder_linears = [m for m in model.get_decoder().modules() if type(m) is plain]
    encoder_linears = [m for m in model.get_encoder().modules() if type(m) is plain]
    assert decoder_linears == [] and encoder_linears
    assert type(model.get_output_embeddings()) is not plain
    expected, got = _decoder_logits(reference, processor), _decoder_logits(model, processor)
    # int8 weights and a bf16 SigLIP perturb the logits a little, never reshape them.
    # (No argmax check: the random tiny model's logits are nearly flat, so ties flip.)
    assert (got - expected).abs().max() < 0.05 * expected.abs().max()
    centred = [t - t.mean(-1, keepdim=True) for t in (got, expected)]
    assert torch.nn.functional.cosine_similarity(*centred, dim=-1).min() > 0.99


def test_unknown_quantisation_is_rejected(tiny_model_dir):
    from transformers import AutoModelForSeq2SeqLM

    model = AutoModelForSeq2SeqLM.from_pretrained(tiny_model_dir)
    with pytest.raises(ValueError, match="quantize"):
        cpu_exec.optimize_for_cpu(model, dtype="float32", quantize="int4")


@pytest.mark.parametrize(
    ("requested", "cores", "load", "expected"),
    [
        (None, 2, 1.0, 2),  # idle laptop: only this process is busy
        (None, 2, 0.2, 2),
        (None, 2, 2.0, 1),  # another process owns a core: 1 thread, no barrier stalls
        (None, 2, 4.5, 1),  # oversubscribed shared machine: never below 1
        (None, 8, 3.0, 6),
        (3, 2, 4.5, 3),  # an explicit request wins
        (0, 4, 1.0, 4),  # 0 means automatic
    ],
)
def test_thread_decision_table(requested, cores, load, expected):
    assert cpu_exec.choose_threads(requested, cores=cores, load=load) == expected


def test_negative_threads_are_rejected():
    with pytest.raises(ValueError, match="threads"):
        cpu_exec.choose_threads(-1, cores=2, load=0.0)


def test_configure_threads_sets_torch():
    import torch

    before = torch.get_num_threads()
    try:
        assert cpu_exec.configure_threads(1) == 1
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)


def test_bundled_folder_asks_for_eager_decoder_attention_only():
    from transformers import VisionEncoderDecoderModel

    from model.loading import BUNDLED_DIR

    model = VisionEncoderDecoderModel.from_pretrained(BUNDLED_DIR)
    encoder_attention = model.encoder.config._attn_implementation
    cpu_exec.optimize_for_cpu(model, dtype="float32")
    assert model.decoder.config._attn_implementation == "eager"
    assert model.encoder.config._attn_implementation == encoder_attention
