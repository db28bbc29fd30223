"""Which constructs a reference formula has, and the per-construct table."""

from __future__ import annotations

import json

import pytest

from training.evaluate import constructs as c


@pytest.mark.parametrize(
    ("text", "tags"),
    [
        ("x+y=z", ["plain"]),
        (r"\begin{pmatrix} a & b \\ c & d \end{pmatrix}", ["multi-line"]),
        (r"a \\ b", ["multi-line"]),
        (r"\frac { 1 } { 2 }", ["fraction"]),
        (r"{ a \over b }", ["fraction"]),
        ("x_{i+j+k}", ["long script"]),  # five tokens in one script
        ("x_{i+j}", ["plain"]),  # three: short
        ("x^{a_{b+c}}", ["long script"]),  # nested groups count their tokens
        (r"\sum_{n=1}^{\infty} a_n", ["big operator"]),  # n=1: three tokens
        (r"\left( x \right)", ["left/right"]),
        (r"\hat{x} + \vec v", ["accent"]),
        (r"\mathbf{v} \cdot { \cal L }", ["font command"]),
        (r"x \text{ if } y", ["text"]),
        (r"\sqrt [ 3 ] { x }", ["root"]),
        (r"\frac{\sqrt{x}}{\left|y\right|}", ["fraction", "left/right", "root"]),
    ],
)
def test_constructs_of_a_formula(text, tags):
    assert c.constructs(text) == tags


def test_the_command_scores_every_system_per_construct(tmp_path, capsys):
    report = {
        "scores": {"overall": {"a": {}, "b": {}}},
        "examples": [
            {"text": r"\frac{1}{2}", "a": r"\frac{1}{2}", "b": "1/2"},
            {"text": "x+y", "a": "x+y", "b": "x+y"},
        ],
    }
    path = tmp_path / "report.json"
    path.write_text(json.dumps(report))
    table = c.by_construct(report)
    assert list(table) == ["fraction", "plain"]
    assert table["fraction"]["a"]["exact_match"] == 1.0
    assert table["fraction"]["b"]["exact_match"] == 0.0
    assert c.main([str(path)]) == 0
    out = capsys.readouterr().out
    assert "| fraction | 1 | 0.000 / 100 % |" in out


def test_an_unreadable_report_is_a_clear_error(tmp_path, capsys):
    path = tmp_path / "report.json"
    path.write_text("{}")
    assert c.main([str(path)]) == 2
    assert "cannot read" in capsys.readouterr().err
