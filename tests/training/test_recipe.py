"""Recipes: the A100 reproduction is exactly the tutorial's; overrides and errors."""

import json

import pytest

from model.options import SEED_PROMPT
from training.recipe import (
    Recipe,
    RecipeError,
    apply_overrides,
    available_recipes,
    load_recipe,
    parse_assignment,
    resolve_local,
)
from training.trainer.train import build_parser, main, recipe_from_args

A100 = load_recipe("t5gemma2-a100")


@pytest.mark.parametrize(
    ("field", "expected"),
    [
        ("model", "google/t5gemma-2-270m-270m"),
        ("build", None),
        ("dtype", "bfloat16"),
        ("processor_use_fast", True),
        ("prompt", SEED_PROMPT),
        ("seed", 42),
        ("tf32", True),
        ("device", "cuda"),
        ("max_target_length", 256),
        ("preprocess", False),
        ("letterbox", None),
        ("freeze", ()),
        ("targets_add_eos", False),
        ("collator", None),
    ],
)
def test_a100_recipe_fields(field, expected):
    assert getattr(A100, field) == expected


def test_a100_recipe_data_is_the_tutorials_selection():
    (source,) = A100.datasets
    assert (source.path, source.name) == ("linxy/LaTeX_OCR", "full")
    assert (source.train_split, source.train_rows) == ("train", 1000)
    assert (source.eval_split, source.eval_rows) == ("validation", 200)
    assert source.shuffle_seed == 42


def test_a100_training_arguments_are_the_tutorials():
    assert A100.training_args == {
        "num_train_epochs": 1,
        "per_device_train_batch_size": 8,
        "gradient_accumulation_steps": 1,
        "learning_rate": 1e-4,
        "warmup_steps": 15,
        "lr_scheduler_type": "linear",
        "bf16": True,
        "tf32": True,
        "gradient_checkpointing": True,
        "eval_strategy": "no",
        "save_strategy": "no",
        "predict_with_generate": False,
        "remove_unused_columns": False,
        "logging_steps": 10,
        "report_to": "none",
    }


def test_every_bundled_recipe_loads():
    names = available_recipes()
    assert {"t5gemma2-a100", "debug-tiny-cpu"} <= set(names)
    for name in names:
        assert load_recipe(name).name == name


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"name": "x", "model": "m", "datasets": ["d"], "learning_rate": 1},
            "unknown recipe",
        ),
        ({"name": "x", "datasets": ["d"]}, "neither"),
        ({"name": "x", "model": "m"}, "no datasets"),
        ({"name": "x", "build": "nocolon", "datasets": ["d"]}, "module:function"),
        ({"name": "x", "model": "m", "datasets": ["d"], "collator": "c"}, "'collator'"),
        ({"name": "x", "model": "m", "datasets": ["d"], "trainer": "t"}, "'trainer'"),
        (
            {"name": "x", "model": "m", "datasets": [{"path": "d", "rows": 3}]},
            "dataset entry",
        ),
        ({"name": "x", "model": "m", "datasets": [{"name": "full"}]}, "needs a 'path'"),
        ({"name": "x", "model": "m", "datasets": ["d"], "device": "tpu"}, "device"),
        (
            {"name": "x", "model": "m", "datasets": [{"path": "d", "weight": 0}]},
            "positive",
        ),
    ],
)
def test_bad_recipes_are_clear_errors(data, message):
    with pytest.raises(RecipeError, match=message):
        Recipe.from_dict(data)


def test_dotted_overrides():
    data = {"a": 1, "training_args": {"lr": 1}, "datasets": [{"path": "p", "rows": 1}]}
    out = apply_overrides(
        data,
        {
            "training_args.lr": 2,
            "datasets.0.rows": 5,
            "training_args.new": True,
            "a": None,
        },
    )
    assert out == {
        "a": None,
        "training_args": {"lr": 2, "new": True},
        "datasets": [{"path": "p", "rows": 5}],
    }
    assert data["training_args"] == {"lr": 1}  # the input is not modified
    with pytest.raises(RecipeError, match="no list entry"):
        apply_overrides(data, {"datasets.3.rows": 1})


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("training_args.max_steps=2", ("training_args.max_steps", 2)),
        ('freeze=["vision_tower"]', ("freeze", ["vision_tower"])),
        ("prompt=null", ("prompt", None)),
        ("model=some/dir", ("model", "some/dir")),
        ("preprocess=true", ("preprocess", True)),
    ],
)
def test_parse_assignment(text, expected):
    assert parse_assignment(text) == expected


def test_parse_assignment_rejects_missing_equals():
    with pytest.raises(RecipeError):
        parse_assignment("max_steps")


def test_cli_overrides_keep_the_tutorials_selection():
    args = build_parser().parse_args(
        [
            "--dataset",
            "tests/data/im2latex-mini",
            "--model",
            "some/local",
            "--device",
            "cpu",
            "--max-steps",
            "3",
            "--set",
            "training_args.learning_rate=5e-5",
        ]
    )
    recipe = recipe_from_args(args)
    (source,) = recipe.datasets
    assert source.path == "tests/data/im2latex-mini"
    assert source.name is None  # a local folder has no hub config
    assert (source.train_rows, source.eval_rows, source.shuffle_seed) == (1000, 200, 42)
    assert recipe.model == "some/local" and recipe.device == "cpu"
    assert recipe.training_args["max_steps"] == 3
    assert recipe.training_args["learning_rate"] == 5e-5
    assert recipe.training_args["num_train_epochs"] == 1  # the rest untouched


def test_set_null_clears_a_field_and_absent_flags_change_nothing():
    args = build_parser().parse_args(
        ["--set", "datasets.0.train_rows=null", "--set", "prompt=null"]
    )
    recipe = recipe_from_args(args)
    assert recipe.datasets[0].train_rows is None
    assert recipe.datasets[0].eval_rows == 200
    assert recipe.prompt is None
    assert recipe.device == "cuda" and "max_steps" not in recipe.training_args


def test_data_paths_resolve_from_the_repo_not_the_cwd(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    found = resolve_local("tests/data/im2latex-mini")
    assert found is not None and (found / "train").is_dir()
    assert resolve_local("linxy/LaTeX_OCR") is None


def test_a100_recipe_fails_early_and_clearly_without_gpu_or_hub(capsys, monkeypatch):
    import torch

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert main(["--recipe", "t5gemma2-a100"]) == 2
    err = capsys.readouterr().err
    assert "needs a CUDA GPU" in err and "--device cpu" in err
    assert "--model LOCAL_DIR" in err and "--dataset LOCAL_DIR" in err
    assert "Traceback" not in err


def test_missing_local_folder_is_a_clear_error(capsys):
    code = main(["--recipe", "debug-tiny-cpu", "--dataset", "./no/such/folder"])
    assert code == 2
    assert "no dataset folder at ./no/such/folder" in capsys.readouterr().err


def test_print_recipe_is_json(capsys):
    assert main(["--recipe", "t5gemma2-a100", "--print-recipe"]) == 0
    assert json.loads(capsys.readouterr().out)["name"] == "t5gemma2-a100"


def test_unknown_recipe_lists_the_bundled_ones(capsys):
    assert main(["--recipe", "nope"]) == 2
    assert "t5gemma2-a100" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("recipe_values", "bf16_native", "expected"),
    [
        # bf16 autocast stays where the CPU runs it natively (AMX / AVX512-BF16) ...
        ({"bf16": True}, True, {"bf16": True, "use_cpu": True}),
        # ... and falls back to fp32 where it would be emulated (many times slower).
        ({"bf16": True}, False, {"bf16": False, "use_cpu": True}),
        ({"bf16": False}, True, {"bf16": False, "use_cpu": True}),
        ({}, False, {"use_cpu": True}),
        # tf32 is an Ampere GPU feature, never a CPU one.
        ({"tf32": True, "bf16": True}, True, {"tf32": False, "bf16": True, "use_cpu": True}),
    ],
)
def test_cpu_training_values(recipe_values, bf16_native, expected):
    from training.trainer.train import cpu_training_values

    assert cpu_training_values(recipe_values, bf16_native) == expected


def test_cpu_training_values_leaves_the_recipe_alone():
    from training.trainer.train import cpu_training_values

    values = {"bf16": True}
    cpu_training_values(values, bf16_native=False)
    assert values == {"bf16": True}


@pytest.mark.parametrize(
    ("base", "child", "expected"),
    [
        ({"a": 1, "b": 2}, {"b": 3}, {"a": 1, "b": 3}),
        # objects merge key by key, at any depth
        ({"args": {"lr": 1, "steps": 9, "deep": {"x": 1}}},
         {"args": {"lr": 2, "deep": {"y": 2}}},
         {"args": {"lr": 2, "steps": 9, "deep": {"x": 1, "y": 2}}}),
        # lists replace: a second stage names its own data mix
        ({"datasets": [{"path": "a"}, {"path": "b"}]}, {"datasets": [{"path": "c"}]},
         {"datasets": [{"path": "c"}]}),
        # null is a value like any other (``"build": null``: train from "model")
        ({"build": "m:f", "model": None}, {"build": None, "model": "dir"},
         {"build": None, "model": "dir"}),
        # name and run folder are never inherited
        ({"name": "base", "output_dir": "runs/base", "seed": 1}, {"name": "child"},
         {"name": "child", "seed": 1}),
    ],
)
def test_extend(base, child, expected):
    from training.recipe import extend

    assert extend(base, child) == expected


def test_extend_copies_instead_of_sharing():
    from training.recipe import extend

    base = {"training_args": {"lr": 1}, "freeze": ["x"]}
    merged = extend(base, {"training_args": {"steps": 2}})
    merged["training_args"]["lr"] = 5
    merged["freeze"].append("y")
    assert base == {"training_args": {"lr": 1}, "freeze": ["x"]}


def test_polish_recipe_is_the_bundled_one_but_for_what_it_changes():
    bundled, polish = load_recipe("bundled"), load_recipe("bundled-polish")
    assert (polish.name, polish.model, polish.build, polish.curriculum) == (
        "bundled-polish", "model/bundled", None, ())
    assert polish.output_dir is None  # runs/bundled-polish, never runs/bundled
    assert [d.path for d in polish.datasets][-1] == "data/rendered-c"
    changed = {"max_steps", "learning_rate", "warmup_steps"}
    assert {k: v for k, v in polish.training_args.items() if k not in changed} == {
        k: v for k, v in bundled.training_args.items() if k not in changed}
    assert (polish.trainer, polish.trainer_args, polish.collator) == (
        bundled.trainer, bundled.trainer_args, bundled.collator)


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({"a": {"extends": "b"}, "b": {"extends": "a"}}, "loop"),
        ({"a": {"extends": "a"}}, "loop"),
        ({"a": {"extends": 3}}, "must name a recipe"),
        ({"a": {"extends": "nowhere"}}, "no recipe file|unknown recipe"),
    ],
)
def test_bad_extends_are_clear_errors(tmp_path, monkeypatch, files, message):
    from training import recipe

    for name, data in files.items():
        (tmp_path / f"{name}.json").write_text(json.dumps(data))
    monkeypatch.setattr(recipe, "RECIPES_DIR", tmp_path)
    with pytest.raises(RecipeError, match=message):
        recipe.read_recipe_dict("a")


@pytest.mark.parametrize(
    ("name", "overrides", "expected"),
    [
        ("bundled", {}, {"weight": 0.45, "first_symbol_id": 260}),
        ("bundled-polish", {}, {"weight": 0.45, "first_symbol_id": 260}),
        # an encoder that never learned CTC cannot take part in the search
        ("bundled", {"trainer_args.encoder_loss": "symbols"}, None),
        ("bundled", {"trainer_args.encoder_loss_weight": 0}, None),
        ("bundled", {"trainer": None, "trainer_args": {}}, None),
        ("t5gemma2-a100", {}, None),
    ],
)
def test_ctc_hint_only_for_ctc_trained_encoders(name, overrides, expected):
    assert load_recipe(name, overrides).ctc_hint() == expected
