"""The shared decoding flags, --print-settings, and the model folder's pre-processing hint."""

import argparse
import json
import shutil

import images_factory as f
import pytest

from model import decoding_flags, ocr
from model.adapters import adapter_for, prepares_snips
from model.errors import ModelLoadError
from model.manifest import update_hints
from model.options import DEFAULT_BEAMS, InferenceOptions

# The tutorial's generate call, as GenerationConfig names it.
TUTORIAL = {"max_new_tokens": 100, "do_sample": False, "num_beams": 3,
            "repetition_penalty": 1.2, "no_repeat_ngram_size": 4, "early_stopping": True}


def parse(*argv, max_new_tokens=None):
    parser = argparse.ArgumentParser()
    decoding_flags.add_decoding_arguments(parser, max_new_tokens)
    return parser.parse_args(argv)


def options(*argv, **kwargs):
    return decoding_flags.options_from_args(parse(*argv, **kwargs))


@pytest.fixture(scope="module")
def raw_pixel_model(tiny_model_dir, tmp_path_factory):
    """The tiny T5Gemma-2 with the manifest the tutorial's recipe writes: the processor
    alone prepares pixels (no flatten/crop)."""
    from training.recipe import load_recipe

    folder = tmp_path_factory.mktemp("raw-pixels") / "model"
    shutil.copytree(tiny_model_dir, folder)
    update_hints(folder, input=load_recipe("t5gemma2-a100").input_hints())
    assert json.loads((folder / "snaptex.json").read_text())["input"]["preprocess"] is False
    return folder


def test_seed_is_the_tutorials_generate_call():
    assert InferenceOptions.seed().generation_kwargs().items() >= TUTORIAL.items()
    assert options("--seed-settings").generation_kwargs().items() >= TUTORIAL.items()


@pytest.mark.parametrize(("argv", "expected"), [
    ((), {"num_beams": DEFAULT_BEAMS, "max_new_tokens": 512, "preprocess": None,
          "repetition_penalty": 1.0, "no_repeat_ngram_size": 0, "ctc_weight": None}),
    (("--beams", "2", "--max-new-tokens", "64"), {"num_beams": 2, "max_new_tokens": 64}),
    (("--num-beams", "7"), {"num_beams": 7}),  # the old spelling still works
    (("--seed-settings", "--beams", "5"), {"num_beams": 5, "max_new_tokens": 100,
                                           "repetition_penalty": 1.2}),
    (("--seed-settings", "--no-repeat-ngram-size", "0"), {"no_repeat_ngram_size": 0}),
    (("--repetition-penalty", "1.3", "--length-penalty", "0.5", "--ctc-weight", "0"),
     {"repetition_penalty": 1.3, "length_penalty": 0.5, "ctc_weight": 0.0}),
    (("--preprocess",), {"preprocess": True}),
    (("--no-preprocess",), {"preprocess": False}),
])
def test_flags_apply_on_top_of_the_base(argv, expected):
    got = options(*argv).to_dict()
    assert {k: got[k] for k in expected} == expected


def test_a_command_may_choose_its_own_token_default():
    assert options(max_new_tokens=256).max_new_tokens == 256
    assert options("--seed-settings", max_new_tokens=256).max_new_tokens == 100


@pytest.mark.parametrize("argv", [("--beams", "0"), ("--max-new-tokens", "0"),
                                  ("--repetition-penalty", "0"), ("--ctc-weight", "-1")])
def test_out_of_range_values_are_refused(argv):
    with pytest.raises(ValueError):
        options(*argv)


@pytest.mark.parametrize(("hints", "flag", "expected"), [
    (None, None, True),  # no manifest: real snips are prepared
    ({"preprocess": True}, None, True),
    ({"preprocess": False}, None, False),  # the folder decides
    ({"preprocess": False}, True, True),  # an explicit flag wins
    ({"preprocess": True}, False, False),
])
def test_who_decides_preprocessing(hints, flag, expected):
    adapter = adapter_for("t5gemma2", hints)
    assert prepares_snips(adapter, InferenceOptions(preprocess=flag)) is expected


def test_a_non_boolean_preprocess_hint_is_a_load_error():
    with pytest.raises(ModelLoadError, match="preprocess"):
        adapter_for("t5gemma2", {"preprocess": "no"})


def test_print_settings_shows_the_tutorials_values(raw_pixel_model, capsys, monkeypatch):
    loads = []
    monkeypatch.setattr("model.loading.load_recognizer", lambda *a, **k: loads.append(a))
    code = ocr.main(["--print-settings", "--seed-settings", "--model", str(raw_pixel_model)])
    assert code == 0 and loads == []
    settings = json.loads(capsys.readouterr().out)
    assert settings.items() >= {**TUTORIAL, "preprocess": False, "letterbox": None,
                                "model_type": "t5gemma2", "ctc_weight": 0.0,
                                "split_rows": False}.items()
    assert settings["prompt"] == InferenceOptions().prompt
    assert settings["manifest"].endswith("snaptex.json")


def test_print_settings_flag_beats_the_manifest(raw_pixel_model, capsys):
    assert ocr.main(["--print-settings", "--preprocess", "--beams", "1",
                     "--model", str(raw_pixel_model)]) == 0
    settings = json.loads(capsys.readouterr().out)
    assert (settings["preprocess"], settings["num_beams"]) == (True, 1)
    assert settings["early_stopping"] is False  # greedy search has nothing to stop early


def test_print_settings_of_the_bundled_model_reads_its_ctc_hint(capsys):
    assert ocr.main(["--print-settings", "--ctc-weight", "0.2"]) == 0
    settings = json.loads(capsys.readouterr().out)
    assert (settings["model_type"], settings["ctc_weight"]) == ("vision-encoder-decoder", 0.2)
    assert settings["prompt"] is None and settings["preprocess"] is True
    assert settings["split_rows"] is True  # multi-line blocks are read row by row


def test_print_settings_of_a_missing_model_is_a_usage_error(capsys):
    assert ocr.main(["--print-settings", "--model", "/no/such/model"]) == 2
    assert "model folder not found" in capsys.readouterr().err


def test_folder_hint_reaches_the_recognizer(raw_pixel_model, monkeypatch):
    """The recognizer prepares snips only where the folder (or an explicit option) says."""
    from model import recognizer as recognizer_module
    from model.loading import load_recognizer

    prepared = []
    real_prepare = recognizer_module.prepare
    monkeypatch.setattr(recognizer_module, "prepare",
                        lambda image: prepared.append(image) or real_prepare(image))
    recognizer = load_recognizer(raw_pixel_model, device="cpu", dtype="float32", threads=1)
    recognizer.recognize(f.equation(), InferenceOptions(max_new_tokens=2, num_beams=1))
    assert prepared == []
    recognizer.recognize(f.equation(), InferenceOptions(max_new_tokens=2, num_beams=1,
                                                        preprocess=True))
    assert len(prepared) == 1
