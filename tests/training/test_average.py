"""Checkpoint averaging: table tests on state dicts, then a real save_pretrained folder."""

from __future__ import annotations

import shutil

import pytest
import torch

from training.export.average import average_checkpoints, average_state_dicts, main
from training.recipe import RecipeError


@pytest.mark.parametrize(("values", "expected"), [
    ([[1.0, 2.0]], [1.0, 2.0]),
    ([[1.0, 2.0], [3.0, 4.0]], [2.0, 3.0]),
    ([[0.0], [1.0], [5.0]], [2.0]),
])
def test_floats_are_averaged(values, expected):
    states = [{"w": torch.tensor(v)} for v in values]
    assert average_state_dicts(states)["w"].tolist() == pytest.approx(expected)


def test_bf16_is_summed_in_float32_and_keeps_its_dtype():
    # 256 + 1 is not representable in bf16: a bf16 running sum would drop the 1s.
    states = [{"w": torch.tensor([256.0], dtype=torch.bfloat16)}] + [
        {"w": torch.tensor([1.0], dtype=torch.bfloat16)} for _ in range(3)
    ]
    out = average_state_dicts(states)["w"]
    assert out.dtype == torch.bfloat16
    assert out.item() == pytest.approx(259 / 4, rel=1e-2)


def test_integer_tensors_come_from_the_newest():
    states = [{"ids": torch.tensor([1, 2])}, {"ids": torch.tensor([3, 4])}]
    assert average_state_dicts(states)["ids"].tolist() == [3, 4]


@pytest.mark.parametrize(("states", "message"), [
    ([], "nothing to average"),
    ([{"a": torch.zeros(1)}, {"b": torch.zeros(1)}], "different weights"),
    ([{"a": torch.zeros(1)}, {"a": torch.zeros(2)}], "shapes differ"),
])
def test_mismatched_checkpoints_are_refused(states, message):
    with pytest.raises(RecipeError, match=message):
        average_state_dicts(states)


def test_averaged_folder_loads_with_auto_classes(tiny_model_dir, tmp_path):
    from transformers import AutoModelForSeq2SeqLM, AutoProcessor

    first = AutoModelForSeq2SeqLM.from_pretrained(tiny_model_dir)
    second_dir = tmp_path / "second"
    shutil.copytree(tiny_model_dir, second_dir)
    second = AutoModelForSeq2SeqLM.from_pretrained(second_dir)
    with torch.no_grad():
        for param in second.parameters():
            param.add_(1.0)
    second.save_pretrained(second_dir)

    out = average_checkpoints([tiny_model_dir, second_dir], tmp_path / "avg")

    averaged = AutoModelForSeq2SeqLM.from_pretrained(out)
    AutoProcessor.from_pretrained(out)  # processor files came along
    for (name, a), b, c in zip(first.named_parameters(), second.parameters(),
                               averaged.parameters(), strict=True):
        torch.testing.assert_close(c, (a + b) / 2, msg=name)


def test_cli_reports_a_missing_checkpoint_and_exits_2(tmp_path, capsys):
    assert main([str(tmp_path / "nope"), "--out", str(tmp_path / "avg")]) == 2
    assert "no model.safetensors" in capsys.readouterr().err


def test_cli_refuses_to_overwrite_an_input(tiny_model_dir, capsys):
    assert main([str(tiny_model_dir), "--out", str(tiny_model_dir)]) == 2
    assert "must not be one of the checkpoints" in capsys.readouterr().err


def test_cli_reports_a_corrupt_weights_file_and_exits_2(tmp_path, capsys):
    broken = tmp_path / "checkpoint-1"
    broken.mkdir()
    (broken / "model.safetensors").write_bytes(b"not a safetensors file")
    assert main([str(broken), "--out", str(tmp_path / "avg")]) == 2
    assert "not a readable safetensors file" in capsys.readouterr().err
