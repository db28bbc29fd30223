"""`snaptex render` end to end on a tiny formula list: parquet that datasets reloads,
failures reported, evaluation formulas excluded, resume without re-rendering."""

from __future__ import annotations

import json

import pytest
from PIL import Image

from training.render.cli import main
from training.render.formulas import (
    Source,
    formula_key,
    is_validation,
    mix,
    quotas,
    select_formulas,
)
from training.render.latex import tools_missing

needs_latex = pytest.mark.skipif(
    bool(tools_missing()), reason=f"{' and '.join(tools_missing())} not installed"
)

GOOD = [
    r"\frac{a}{b}",
    r"x^{2}+y^{2}=z^{2}",
    r"\sqrt{x+1}",
    r"\alpha+\beta",
    r"e^{i\pi}+1=0",
    r"\sum_{k=1}^{n} k",
    r"\int_0^1 f(x)\,dx",
    r"a_{n+1}=2a_n",
]
BAD = r"\undefinedmacro{z}"
HELD_OUT = r"\lim_{n\to\infty} x_n"


@pytest.fixture
def formula_file(tmp_path):
    path = tmp_path / "mine" / "formulas.txt"
    path.parent.mkdir()
    path.write_text("\n".join([*GOOD[:4], BAD, HELD_OUT, *GOOD[4:], "x"]) + "\n")
    held = tmp_path / "test_split.txt"
    held.write_text(HELD_OUT.replace("}", " }") + "\n")  # spacing must not matter
    return path, held


def _args(path, held, out, count=9):
    return [
        "--formulas",
        str(path),
        "--out",
        str(out),
        "--count",
        str(count),
        "--seed",
        "3",
        "--exclude",
        str(held),
        "--shard-size",
        "4",
        "--batch-size",
        "3",
        "--validation-fraction",
        "0",
    ]


@needs_latex
def test_render_writes_reloadable_parquet_and_reports_failures(
    formula_file, tmp_path, capsys
):
    from datasets import load_dataset

    path, held = formula_file
    out = tmp_path / "out"
    assert main(_args(path, held, out)) == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["complete"] and manifest["splits"]["train"]["planned"] == 9
    assert manifest["selection"]["mine"]["skipped"]["in evaluation set"] == 1
    assert manifest["selection"]["mine"]["skipped"]["too short"] == 1  # "x"
    failures = [
        json.loads(line) for line in (out / "failures.jsonl").read_text().splitlines()
    ]
    assert {f["formula"] for f in failures} == {BAD}
    assert all("Undefined control sequence" in f["reason"] for f in failures)
    assert (
        manifest["failed"] == len(failures) == 9 - manifest["splits"]["train"]["rows"]
    )
    data = load_dataset(str(out))["train"]
    assert len(data) == manifest["splits"]["train"]["rows"]
    assert set(data["text"]) == set(GOOD)  # 9 planned from 9 usable: each good one once
    assert HELD_OUT not in data["text"]
    assert all(
        isinstance(image, Image.Image) and image.width > 5 for image in data["image"]
    )
    assert '"failed": 1' in capsys.readouterr().out


@needs_latex
def test_rerun_resumes_and_other_settings_are_refused(formula_file, tmp_path, capsys):
    path, held = formula_file
    out = tmp_path / "out"
    assert main(_args(path, held, out)) == 0
    shards = sorted(out.glob("train/*.parquet"))
    stamps = [p.stat().st_mtime_ns for p in shards]
    first = (out / "failures.jsonl").read_text()
    assert main(_args(path, held, out)) == 0  # nothing left to do: nothing rewritten
    assert [p.stat().st_mtime_ns for p in shards] == stamps
    assert (out / "failures.jsonl").read_text() == first
    capsys.readouterr()
    assert main(_args(path, held, out, count=10)) == 1
    assert "other settings" in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv_tail", [["--workers", "3"], ["--dpi-range", "200", "100"], ["--count", "0"]]
)
def test_bad_arguments_give_one_line_errors(argv_tail, tmp_path, capsys):
    argv = ["--formulas", str(tmp_path), "--out", str(tmp_path / "o"), "--count", "5"]
    assert main(argv + argv_tail) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("snaptex render:") and "\n" not in err


def test_missing_formula_list_is_a_clear_error(tmp_path, capsys):
    argv = [
        "--formulas",
        str(tmp_path / "nope"),
        "--out",
        str(tmp_path / "o"),
        "--count",
        "5",
    ]
    if tools_missing():
        pytest.skip("latex/dvipng not installed")
    assert main(argv) == 1
    assert "no formula list" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("sizes", "weights", "count", "expected"),
    [
        ({"a": 10, "b": 30}, {"a": None, "b": None}, 8, {"a": 2, "b": 6}),
        ({"a": 10, "b": 30}, {"a": 0.5, "b": 0.5}, 8, {"a": 4, "b": 4}),
        (
            {"a": 1, "b": 1, "c": 1},
            {"a": 1.0, "b": 1.0, "c": 1.0},
            10,
            {"a": 4, "b": 3, "c": 3},
        ),
        ({"a": 5, "b": 0}, {"a": None, "b": None}, 3, {"a": 3}),
    ],
)
def test_quotas_table(sizes, weights, count, expected):
    assert quotas(sizes, weights, count) == expected


def test_quotas_need_all_or_no_weights():
    with pytest.raises(ValueError, match="every formula source"):
        quotas({"a": 1, "b": 1}, {"a": 1.0, "b": None}, 4)


def test_selection_dedupes_across_sources_and_mix_is_reproducible(tmp_path):
    one, two = tmp_path / "one.txt", tmp_path / "two.txt"
    one.write_text("\\frac { a } { b }\nx+y\n" + "z" * 500 + "\n")
    two.write_text("\\frac{a}{b}\nq^2\n")
    selection = select_formulas(
        [Source("one", one), Source("two", two)], {formula_key("q ^ 2")}
    )
    assert selection.formulas == {"one": ["\\frac { a } { b }", "x+y"], "two": []}
    assert selection.skipped["two"]["duplicate"] == 1
    assert selection.skipped["two"]["in evaluation set"] == 1
    assert selection.skipped["one"]["too long"] == 1
    plan = mix(selection, {"one": None, "two": None}, 7, seed=1)
    assert len(plan) == 7 and plan == mix(
        selection, {"one": None, "two": None}, 7, seed=1
    )
    assert {formula for _, formula in plan} == {"\\frac { a } { b }", "x+y"}  # repeats


def test_validation_split_is_by_formula_and_spacing_insensitive():
    assert is_validation("\\frac{a}{b}", 0.5) == is_validation(
        "\\frac { a } { b }", 0.5
    )
    share = sum(is_validation(f"x_{{{i}}}", 0.1) for i in range(5000)) / 5000
    assert 0.08 < share < 0.12
    assert not any(is_validation(f"x_{{{i}}}", 0.0) for i in range(100))
