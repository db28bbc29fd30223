"""Data loading: a local im2latex-shaped folder as a drop-in, pairs folders, mixing."""

from pathlib import Path

import pytest
from PIL import Image

from training.data.sources import (
    formula_chars,
    keep_short,
    load_split,
    load_train_eval,
    mix,
    passes_needed,
    select_rows,
)
from training.recipe import DataSource, Recipe, RecipeError

IM2LATEX = "tests/data/im2latex-mini"  # the repository's fixture (tests/data)


def test_local_folder_is_a_drop_in_for_the_hub_split():
    from datasets import load_dataset

    ours = load_split(DataSource(IM2LATEX, name="full"), "validation")
    direct = load_dataset(_shared(), split="validation")
    assert ours.column_names == ["image", "text"]
    assert len(ours) == len(direct)
    assert ours[0]["text"] == direct[0]["text"]
    assert isinstance(ours[0]["image"], Image.Image)


def _shared():
    from training.recipe import resolve_local

    return str(resolve_local(IM2LATEX))


def test_select_rows_is_the_tutorials_shuffle_then_select():
    from datasets import load_dataset

    raw = load_dataset(_shared(), split="train")
    expected = raw.shuffle(seed=42).select(range(10))["text"]
    ours = select_rows(load_split(DataSource(IM2LATEX), "train"), 10, 42)["text"]
    assert ours == expected


def test_asking_for_more_rows_than_exist_uses_all(tmp_path):
    pairs = _pair_folder(tmp_path, 3)
    assert len(select_rows(load_split(DataSource(str(pairs)), "test"), 10, 1)) == 3


def _pair_folder(root, count):
    folder = root / "pairs"
    folder.mkdir()
    for i in range(count):
        Image.new("RGB", (40, 20), "white").save(folder / f"{i:02d}.png")
        (folder / f"{i:02d}.tex").write_text(f"x_{i}\n")
    (folder / "notes.txt").write_text("not a label: no image")
    Image.new("RGB", (4, 4)).save(folder / "unlabelled.png")
    return folder


def test_pair_folder(tmp_path):
    dataset = load_split(DataSource(str(_pair_folder(tmp_path, 3))), "test")
    assert dataset["text"] == ["x_0", "x_1", "x_2"]
    assert dataset[0]["image"].size == (40, 20)


def test_renamed_columns_and_missing_columns(tmp_path):
    from datasets import Dataset
    from datasets import Image as ImageFeature

    folder = tmp_path / "custom"
    png = tmp_path / "a.png"
    Image.new("RGB", (8, 8)).save(png)
    data = Dataset.from_dict({"img": [str(png)], "latex": ["y"]})
    data.cast_column("img", ImageFeature()).to_parquet(
        str(folder / "train" / "0.parquet")
    )
    renamed = load_split(
        DataSource(str(folder), image_column="img", text_column="latex"), "train"
    )
    assert renamed.column_names == ["image", "text"]
    with pytest.raises(RecipeError, match="lacks column"):
        load_split(DataSource(str(folder)), "train")


def test_missing_split_is_a_clear_error():
    with pytest.raises(RecipeError, match="cannot load split"):
        load_split(DataSource(IM2LATEX), "nonexistent")


def test_mixing_by_weight_uses_every_source(tmp_path):
    from datasets import Dataset

    a = Dataset.from_dict({"text": ["a"] * 5})
    b = Dataset.from_dict({"text": ["b"] * 20})
    mixed = mix([a, b], [1.0, 1.0], seed=0)
    texts = mixed["text"]
    assert (
        texts.count("a") >= 5 and texts.count("b") == 20
    )  # all_exhausted: nothing dropped


def test_load_train_eval_selects_each_source():
    recipe = Recipe.from_dict(
        {
            "name": "t",
            "model": "m",
            "datasets": [
                {"path": IM2LATEX, "train_rows": 6, "eval_rows": 4},
                {"path": IM2LATEX, "train_rows": 2, "eval_split": None, "weight": 3},
            ],
        }
    )
    train, evaluation = load_train_eval(recipe)
    assert len(evaluation) == 4
    assert len(train) >= 8


@pytest.mark.parametrize(
    "text, chars",
    [
        ("x", 1),
        ("x ^ { 2 }", 5),  # im2latex's spaced-out labels count like compact ones
        ("x^{2}", 5),
        ("\\frac { a } { b }", 11),
        ("a \\quad\tb\n", 7),
        ("", 0),
    ],
)
def test_formula_chars_ignores_spacing(text, chars):
    assert formula_chars(text) == chars


@pytest.mark.parametrize("limit, kept", [(None, 4), (100, 4), (5, 3), (1, 1), (0, 0)])
def test_keep_short(limit, kept):
    from datasets import Dataset

    rows = Dataset.from_dict({"text": ["x", "x ^ { 2 }", "a+b", "\\frac{a}{b}+\\sqrt{c}"]})
    assert len(keep_short(rows, limit)) == kept


def test_load_train_eval_filters_long_formulas(tmp_path):
    folder = tmp_path / "pairs"
    folder.mkdir()
    for i, text in enumerate(["x", "a+b=c", "\\int_0^1 f(x)\\,dx"]):
        Image.new("RGB", (40, 20), "white").save(folder / f"{i:02d}.png")
        (folder / f"{i:02d}.tex").write_text(text)
    recipe = Recipe.from_dict(
        {"name": "t", "model": "m",
         "datasets": [{"path": str(folder), "eval_split": None, "max_formula_chars": 5}]}
    )
    train, _ = load_train_eval(recipe)
    assert sorted(train["text"]) == ["a+b=c", "x"]


def _pairs(root, texts):
    folder = root / "pairs"
    folder.mkdir()
    for i, text in enumerate(texts):
        Image.new("RGB", (40, 20), "white").save(folder / f"{i:02d}.png")
        (folder / f"{i:02d}.tex").write_text(text)
    return str(folder)


def test_curriculum_puts_short_formulas_first_then_everything(tmp_path):
    texts = ["x", "y", "a+b=c", "\\int_0^1 f(x)\\,dx", "\\sum_{n=1}^{N} n^{2}"]
    recipe = Recipe.from_dict({
        "name": "t", "model": "m",
        "training_args": {"per_device_train_batch_size": 2, "max_steps": 5},
        "datasets": [{"path": _pairs(tmp_path, texts), "eval_split": None}],
        "curriculum": [{"steps": 3, "max_formula_chars": 1},
                       {"steps": 1, "max_formula_chars": 5}],
    })
    train, _ = load_train_eval(recipe)
    order = train["text"]
    assert sorted(order[:6]) == ["x", "x", "x", "y", "y", "y"]  # 3 steps x 2, repeated
    assert set(order[6:8]) <= {"x", "y", "a+b=c"}
    assert sorted(order[8:]) == sorted(texts)


def test_curriculum_is_read_once_when_the_run_outgrows_one_pass(tmp_path):
    # 2 stage rows + 5 mix rows per pass; 8 steps x 2 rows need 3 passes of the mix.
    texts = ["x", "a+b=c", "\\int_0^1 f(x)\\,dx", "\\sum_{n=1}^{N} n^{2}", "e^{i\\pi}"]
    recipe = Recipe.from_dict({
        "name": "t", "model": "m",
        "training_args": {"per_device_train_batch_size": 2, "max_steps": 8},
        "datasets": [{"path": _pairs(tmp_path, texts), "eval_split": None}],
        "curriculum": [{"steps": 1, "max_formula_chars": 1}],
    })
    train, _ = load_train_eval(recipe)
    order = train["text"]
    assert len(order) == 2 + 3 * 5
    assert order[:2] == ["x", "x"]
    passes = [order[2 + 5 * n: 7 + 5 * n] for n in range(3)]
    assert all(sorted(chunk) == sorted(texts) for chunk in passes)
    assert len({tuple(chunk) for chunk in passes}) > 1  # each pass shuffled anew


@pytest.mark.parametrize(
    ("rows", "mix_rows", "passes"),
    [
        (10, 5, 2),
        (11, 5, 3),
        (1, 5, 1),
        (0, 5, 1),  # the stages fill max_steps: one pass all the same
        (-9, 5, 1),
        (10, 0, 1),
    ],
)
def test_passes_needed(rows, mix_rows, passes):
    assert passes_needed(rows, mix_rows) == passes


def test_curriculum_stage_with_nothing_short_enough_is_an_error(tmp_path):
    recipe = Recipe.from_dict({
        "name": "t", "model": "m", "training_args": {"max_steps": 3},
        "datasets": [{"path": _pairs(tmp_path, ["a+b", "c+d"]), "eval_split": None}],
        "curriculum": [{"steps": 3, "max_formula_chars": 1}],
    })
    with pytest.raises(RecipeError, match="stage 1"):
        load_train_eval(recipe)


@pytest.mark.parametrize(
    "stage", [{"steps": 3}, {"steps": 0, "max_formula_chars": 9},
              {"steps": 2, "max_formula_chars": 9, "weight": 1}]
)
def test_bad_curriculum_stage_is_refused(stage):
    with pytest.raises(RecipeError, match="curriculum stage"):
        Recipe.from_dict({"name": "t", "model": "m", "datasets": ["d"],
                          "training_args": {"max_steps": 9}, "curriculum": [stage]})


@pytest.mark.parametrize(
    "training_args",
    [{}, {"num_train_epochs": 3}, {"max_steps": -1}, {"max_steps": None}, {"max_steps": "100"}],
)
def test_curriculum_without_max_steps_is_refused(training_args):
    # Counted in epochs, the sequential sampler would replay the stages every epoch.
    with pytest.raises(RecipeError, match="max_steps"):
        Recipe.from_dict({"name": "t", "model": "m", "datasets": ["d"],
                          "training_args": training_args,
                          "curriculum": [{"steps": 1, "max_formula_chars": 9}]})


def test_curriculum_runs_read_in_order():
    from training.trainer.train import training_arguments

    recipe = Recipe.from_dict({"name": "t", "model": "m", "datasets": ["d"],
                               "training_args": {"max_steps": 2},
                               "curriculum": [{"steps": 1, "max_formula_chars": 9}]})
    args = training_arguments(recipe, "cpu", Path("/tmp/unused"))
    assert args.train_sampling_strategy == "sequential"
