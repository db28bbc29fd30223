"""``snaptex eval`` takes ``snaptex ocr``'s decoding flags; a tutorial-style run works."""

import json
import shutil

import images_factory as f
import pytest

from bench import worker_latency as bench
from model import ocr
from model.manifest import update_hints
from training.evaluate import evaluator as evaluate
from training.recipe import load_recipe


def decoding_flags(parser):
    (group,) = [g for g in parser._action_groups if g.title == "decoding"]
    return {flag for action in group._group_actions for flag in action.option_strings}


def test_eval_and_bench_accept_every_decoding_flag_of_ocr():
    ocr_flags = decoding_flags(ocr.build_parser())
    assert {"--seed-settings", "--beams", "--repetition-penalty",
            "--no-repeat-ngram-size", "--max-new-tokens", "--no-preprocess"} <= ocr_flags
    assert decoding_flags(evaluate.build_parser()) == ocr_flags
    assert decoding_flags(bench.build_parser()) == ocr_flags


@pytest.fixture(scope="module")
def tutorial_model(tiny_model_dir, tmp_path_factory):
    folder = tmp_path_factory.mktemp("tutorial") / "model"
    shutil.copytree(tiny_model_dir, folder)
    update_hints(folder, input=load_recipe("t5gemma2-a100").input_hints())
    return folder


def pair_folder(folder, count=2):
    folder.mkdir()
    for i in range(count):
        (folder / f"eq{i}.png").write_bytes(f.encode(f.equation()))
        (folder / f"eq{i}.tex").write_text("x^{2}+1")
    return folder


def test_a_tutorial_style_evaluation_runs_with_the_same_flags(tutorial_model, tmp_path):
    data = pair_folder(tmp_path / "pairs")
    (data / "broken.png").write_bytes(b"")  # refused when the data is read, not scored
    (data / "broken.tex").write_text("y")
    report_path = tmp_path / "report.json"
    code = evaluate.main(["--model", str(tutorial_model), "--data", str(data),
                          "--seed-settings", "--max-new-tokens", "4", "--device", "cpu",
                          "--output", str(report_path)])
    assert code == 0
    document = json.loads(report_path.read_text())
    assert document["data"]["examples"] == 2
    assert document["command"].startswith(f"snaptex eval --model {tutorial_model} --data ")
    options = document["options"]
    assert (options["num_beams"], options["repetition_penalty"],
            options["no_repeat_ngram_size"], options["max_new_tokens"]) == (3, 1.2, 4, 4)


def test_a_typo_in_the_second_model_is_refused_before_the_first_loads(
        tutorial_model, tmp_path, monkeypatch, capsys):
    loads = []
    monkeypatch.setattr("model.loading.load_recognizer", lambda *a, **k: loads.append(a))
    code = evaluate.main(["--compare", str(tutorial_model), str(tmp_path / "typo"),
                          "--data", str(pair_folder(tmp_path / "pairs")),
                          "--output", str(tmp_path / "r.json")])
    assert code == 2 and loads == []
    assert "model folder not found" in capsys.readouterr().err

