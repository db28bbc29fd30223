"""End to end on CPU: train a tiny T5Gemma-2, reload it as the app does, eval it."""

import json
import math
import shutil

import pytest

from training.evaluate import evaluator as evaluate
from training.trainer import train

IM2LATEX = "tests/data/im2latex-mini"  # the repository's fixture (tests/data)


def train_argv(model_dir, out_dir, *extra):
    # Two rows, batch two: both steps see the same batch, so the loss must fall.
    return [
        "--recipe",
        "debug-tiny-cpu",
        "--model",
        str(model_dir),
        "--dataset",
        IM2LATEX,
        "--train-rows",
        "2",
        "--eval-rows",
        "2",
        "--output-dir",
        str(out_dir),
        "--set",
        "training_args.per_device_train_batch_size=2",
        "--set",
        "training_args.learning_rate=0.003",
        *extra,
    ]


@pytest.fixture(scope="module")
def run(tiny_model_dir, tmp_path_factory):
    root = tmp_path_factory.mktemp("train")
    init = root / "init"
    shutil.copytree(
        tiny_model_dir, init
    )  # training must never touch the shared fixture
    out = root / "out"
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(root)  # the data path must resolve from the repo, not the cwd
        assert train.main(train_argv(init, out, "--max-steps", "2")) == 0
    return init, out


def batch_loss(model_dir, batch):
    import torch
    from transformers import AutoModelForImageTextToText

    model = AutoModelForImageTextToText.from_pretrained(model_dir).eval()
    with torch.no_grad():
        return float(model(**batch).loss)


def first_batch(model_dir):
    from transformers import AutoProcessor

    from training.data.collators import make_collator
    from training.data.sources import load_train_eval
    from training.recipe import load_recipe

    recipe = load_recipe(
        "debug-tiny-cpu",
        {"datasets": [{"path": IM2LATEX, "train_rows": 2, "eval_rows": 2}]},
    )
    train_rows, _ = load_train_eval(recipe)
    collator = make_collator(AutoProcessor.from_pretrained(model_dir), recipe)
    return collator([train_rows[0], train_rows[1]])


def test_two_steps_give_a_finite_falling_loss(run):
    init, out = run
    log = json.loads((out / "train_log.json").read_text())
    losses = [entry["loss"] for entry in log["log_history"] if "loss" in entry]
    assert len(losses) == 2
    assert all(math.isfinite(loss) for loss in losses)
    assert losses[1] < losses[0]
    batch = first_batch(init)
    assert batch_loss(out, batch) < batch_loss(init, batch)


def test_output_folder_describes_itself_and_holds_no_pickle(run):
    _, out = run
    names = {p.name for p in out.iterdir()}
    assert {
        "config.json",
        "model.safetensors",
        "tokenizer.json",
        "recipe.json",
        "training_args.json",
        "processor_config.json",
    } <= names
    assert not any(n.endswith((".bin", ".pt", ".pkl")) for n in names)
    assert json.loads((out / "recipe.json").read_text())["name"] == "debug-tiny-cpu"


def test_saved_folder_reloads_through_the_apps_loader(run):
    from PIL import Image, ImageDraw

    from model.loading import load_recognizer
    from model.options import InferenceOptions

    _, out = run
    recognizer = load_recognizer(out, device="cpu")
    image = Image.new("RGB", (200, 50), "white")
    ImageDraw.Draw(image).text((10, 15), "x^2 + 1", fill="black")
    prediction = recognizer.recognize(image, InferenceOptions(max_new_tokens=8))
    assert isinstance(prediction.latex, str)
    assert prediction.n_tokens > 0 and prediction.latex_raw


def test_eval_writes_a_report(run, tmp_path, capsys):
    _, out = run
    report_path = tmp_path / "report.json"
    code = evaluate.main(
        [
            "--model",
            str(out),
            "--data",
            IM2LATEX,
            "--split",
            "validation",
            "--limit",
            "3",
            "--max-new-tokens",
            "8",
            "--worst",
            "2",
            "--device",
            "cpu",
            "--output",
            str(report_path),
        ]
    )
    assert code == 0
    document = json.loads(report_path.read_text())
    assert document["data"]["examples"] == 3
    (report,) = document["reports"]
    assert set(report["metrics"]) >= {
        "bleu",
        "edit_distance",
        "exact_match",
        "empty_share",
    }
    assert report["metrics"]["count"] == 3
    assert report["latency_ms"]["p50"] <= report["latency_ms"]["p95"]
    assert len(report["worst"]) == 2
    assert report["worst"][0]["edit_distance"] >= report["worst"][1]["edit_distance"]
    assert "BLEU-4" in capsys.readouterr().out


def test_compare_scores_two_models_on_the_same_examples(run, tmp_path):
    init, out = run
    report_path = tmp_path / "compare.json"
    code = evaluate.main(
        [
            "--compare",
            str(init),
            str(out),
            "--data",
            IM2LATEX,
            "--split",
            "test",
            "--limit",
            "2",
            "--max-new-tokens",
            "4",
            "--device",
            "cpu",
            "--output",
            str(report_path),
        ]
    )
    assert code == 0
    document = json.loads(report_path.read_text())
    reports = document["reports"]
    assert sum(document["head_to_head"].values()) == 2
    assert [r["model"]["path"] for r in reports] == [str(init), str(out)]
    assert [r["metrics"]["count"] for r in reports] == [2, 2]


def test_eval_of_a_missing_model_is_a_clear_error(tmp_path, capsys):
    code = evaluate.main(
        [
            "--model",
            str(tmp_path / "nothing"),
            "--limit",
            "1",
            "--output",
            str(tmp_path / "r.json"),
        ]
    )
    assert code == 2
    err = capsys.readouterr().err
    assert "snaptex eval: error:" in err and "Traceback" not in err


@pytest.mark.parametrize("weight", ["-1", "nan"])
def test_eval_refuses_a_bad_ctc_weight_before_loading_anything(tmp_path, capsys, weight):
    code = evaluate.main(["--ctc-weight", weight, "--limit", "1",
                          "--output", str(tmp_path / "r.json")])
    assert code == 2
    err = capsys.readouterr().err
    assert "ctc_weight" in err and "Traceback" not in err


def test_resume_continues_from_the_last_checkpoint(run, tmp_path, caplog):
    init, _ = run
    out = tmp_path / "resumable"
    saving = [
        "--set",
        'training_args.save_strategy="steps"',
        "--set",
        "training_args.save_steps=1",
    ]
    assert train.main(train_argv(init, out, "--max-steps", "1", *saving)) == 0
    assert (out / "checkpoint-1").is_dir()
    caplog.clear()
    with caplog.at_level("INFO", logger="training.trainer.train"):
        assert train.main(train_argv(init, out, "--max-steps", "2", *saving)) == 0
    assert any("resuming from" in r.getMessage() for r in caplog.records)
    log = json.loads((out / "train_log.json").read_text())
    steps = [entry["step"] for entry in log["log_history"] if "loss" in entry]
    assert steps == [1, 2]  # step 1 restored from the checkpoint, step 2 trained now
    first, second = (compute_time(out / f"checkpoint-{n}") for n in (1, 2))
    assert first["since_step"] == second["since_step"] == 0  # counted across the resume
    assert 0 < first["seconds"] <= second["seconds"]


def compute_time(checkpoint):
    from training.trainer.compute_time import recorded

    state = json.loads((checkpoint / "trainer_state.json").read_text())
    return recorded(state["stateful_callbacks"])


def test_push_without_the_hub_is_a_clear_error_and_keeps_the_model(run, monkeypatch):
    from training.recipe import RecipeError

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    _, out = run
    with pytest.raises(RecipeError, match="push to someone/snaptex failed"):
        train.push_to_hub(out, "someone/snaptex")
    assert (out / "model.safetensors").is_file()


def weights(folder):
    from safetensors.torch import load_file

    return load_file(str(folder / "model.safetensors"))


@pytest.mark.parametrize("skip_data", [True, False])
def test_a_resumed_run_ends_where_an_unbroken_one_does(tiny_model_dir, tmp_path, skip_data):
    """Optimiser, schedule, RNG and data position all come back from a checkpoint: four
    steps broken after two end on the same weights as four unbroken. With the data
    position ignored (the Trainer's ``ignore_data_skip``), steps 3-4 re-read batches 1-2
    and the weights differ, so the comparison can tell."""
    import torch

    def argv(out):
        return train_argv(
            tiny_model_dir, out, "--train-rows", "16", "--max-steps", "4",
            "--set", 'training_args.save_strategy="steps"',
            "--set", "training_args.save_steps=2",
            "--set", 'training_args.lr_scheduler_type="cosine"',
            "--set", f"training_args.ignore_data_skip={'false' if skip_data else 'true'}",
        )

    unbroken, resumed = tmp_path / "unbroken", tmp_path / "resumed"
    assert train.main(argv(unbroken)) == 0
    resumed.mkdir()
    shutil.copytree(unbroken / "checkpoint-2", resumed / "checkpoint-2")
    assert train.main(argv(resumed)) == 0
    a, b = weights(unbroken), weights(resumed)
    same = all(torch.allclose(a[name], b[name], atol=1e-6) for name in a)
    assert same is skip_data
