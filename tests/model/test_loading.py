"""Loading checkpoints: the tiny T5Gemma-2 end to end, and every way a folder can be wrong."""

import shutil

import pytest

from model.errors import ModelLoadError
from model.loading import load_recognizer, resolve_model
from model.options import InferenceOptions


@pytest.fixture(scope="module")
def recognizer(tiny_model_dir):
    return load_recognizer(tiny_model_dir, device="cpu", dtype="float32", threads=1)


def test_loads_through_auto_classes(recognizer):
    info = recognizer.info
    assert info.model_type == "t5gemma2"
    assert (info.device, info.dtype) == ("cpu", "float32")
    assert info.parameters > 0


def test_recognize_end_to_end(recognizer):
    import images_factory as f

    prediction = recognizer.recognize(f.equation(), InferenceOptions(max_new_tokens=12))
    assert isinstance(prediction.latex, str)
    assert 0.0 <= prediction.confidence <= 1.0
    assert 1 <= prediction.n_tokens <= 12
    assert prediction.timings_ms["generate"] > 0


def test_seed_settings_beam_search(recognizer):
    import images_factory as f

    options = InferenceOptions.from_dict({**InferenceOptions.seed().to_dict(), "max_new_tokens": 8})
    prediction = recognizer.recognize(f.equation(), options)
    assert 0.0 <= prediction.confidence <= 1.0


def test_cancel_between_steps(recognizer):
    import images_factory as f

    from model.errors import CancelledError

    calls = []

    def should_stop():
        calls.append(1)
        return len(calls) > 2

    with pytest.raises(CancelledError):
        recognizer.recognize(f.equation(), InferenceOptions(max_new_tokens=200), should_stop)
    assert len(calls) < 10  # stopped within a few decoding steps, not after 200


def test_missing_folder():
    with pytest.raises(ModelLoadError, match="not found"):
        load_recognizer("/nonexistent/model")


def test_hub_id_offline_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ModelLoadError, match="offline"):
        load_recognizer("google/t5gemma-2-270m-270m")


def test_pickle_checkpoint_refused(tmp_path, tiny_model_dir):
    folder = tmp_path / "pickled"
    shutil.copytree(tiny_model_dir, folder)
    (folder / "model.safetensors").unlink()
    (folder / "pytorch_model.bin").write_bytes(b"\x80\x04not really")
    with pytest.raises(ModelLoadError, match="pickle"):
        load_recognizer(folder)


def test_corrupt_safetensors(tmp_path, tiny_model_dir):
    folder = tmp_path / "corrupt"
    shutil.copytree(tiny_model_dir, folder)
    weights = folder / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:1000])
    with pytest.raises(ModelLoadError, match="could not load") as info:
        load_recognizer(folder)
    assert "\n" not in str(info.value)


def _edit_json(path, edit):
    import json

    data = json.loads(path.read_text())
    edit(data)
    path.write_text(json.dumps(data))


def test_processor_size_mismatch_is_caught(tmp_path, tiny_model_dir):
    folder = tmp_path / "mismatch"
    shutil.copytree(tiny_model_dir, folder)
    _edit_json(folder / "processor_config.json",
               lambda d: d["image_processor"].update(size={"height": 32, "width": 32}))
    with pytest.raises(ModelLoadError, match="image size"):
        load_recognizer(folder)


def test_image_token_mismatch_is_caught(tmp_path, tiny_model_dir):
    folder = tmp_path / "mismatch-token"
    shutil.copytree(tiny_model_dir, folder)
    _edit_json(folder / "config.json", lambda d: d.update(image_token_index=3))
    with pytest.raises(ModelLoadError, match="image token"):
        load_recognizer(folder)


@pytest.mark.parametrize(
    ("hint", "message"),
    [
        ({"weight": -1}, ">= 0"),  # a bad hint is a clear load error, not a crash later
        ({"weight": 0.5}, "vision-encoder-decoder"),  # T5Gemma-2 has no CTC-trained encoder
    ],
)
def test_ctc_ctc_hint_is_checked_at_load(tmp_path, tiny_model_dir, hint, message):
    from model.manifest import update_hints

    folder = tmp_path / "hinted"
    shutil.copytree(tiny_model_dir, folder)
    update_hints(folder, ctc_decoding=hint)
    with pytest.raises(ModelLoadError, match=message):
        load_recognizer(folder)


def test_not_a_model_folder(tmp_path):
    with pytest.raises(ModelLoadError, match=r"config\.json"):
        load_recognizer(tmp_path)


def test_bundled_is_default(monkeypatch):
    from model import loading

    monkeypatch.delenv("SNAPTEX_MODEL", raising=False)
    if (loading.BUNDLED_DIR / "config.json").is_file():
        assert resolve_model(None) == loading.BUNDLED_DIR
    else:
        with pytest.raises(ModelLoadError, match="bundled"):
            resolve_model(None)


def test_bad_device_is_a_clear_error(tiny_model_dir):
    with pytest.raises(ModelLoadError, match="device"):
        load_recognizer(tiny_model_dir, device="tpu")


def test_bf16_models_compute_their_logits_in_float32(tiny_model_dir):
    import torch

    from model.float32_logits import Float32Linear
    from model.loading import load_recognizer

    net = load_recognizer(tiny_model_dir, device="cpu", dtype="bfloat16", threads=1).model
    head = net.get_output_embeddings()
    assert isinstance(head, Float32Linear) and head.weight.dtype == torch.bfloat16
    hidden = torch.randn(2, head.in_features, dtype=torch.bfloat16)
    logits = head(hidden)
    assert logits.dtype == torch.float32
    expected = hidden.double() @ head.weight.double().t()
    # float32 accumulation: far closer than the 8-bit mantissa of a bf16 result
    assert (logits.double() - expected).abs().max() < 1e-3
    assert net.dtype == torch.bfloat16  # everything else stays in bf16


def test_float32_models_keep_their_projection(tiny_model_dir):
    from torch import nn

    from model.float32_logits import use_float32_logits
    from model.loading import load_recognizer

    net = load_recognizer(tiny_model_dir, device="cpu", dtype="float32", threads=1).model
    assert type(net.get_output_embeddings()) is nn.Linear
    assert not use_float32_logits(net)
