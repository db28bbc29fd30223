"""Rescoring an eval report with notation a reader cannot see merged, step by step."""

from __future__ import annotations

import json

import pytest

from training.evaluate import notation as n
from training.evaluate.metrics import reference_tokens


@pytest.mark.parametrize(
    ("step", "text", "expected"),
    [
        (n.drop_spacing, r"a \, b \; c ~ d \quad e \ f", "a b c d e f"),
        (n.drop_spacing, r"\frac { a } { b }", r"\frac { a } { b }"),  # nothing to drop
        (n.drop_braces, r"{ \frac { 1 } { 2 } } x", r"\frac 1 2 x"),
        (n.merge_aliases, r"{ \cal L } = { \bf v }", r"{ \mathcal L } = { \mathbf v }"),
        (n.merge_aliases, r"\left ( x \right ) \big [ y \big ]", "( x ) [ y ]"),
        (n.merge_aliases, r"\mathcal { L }", r"\mathcal { L }"),  # already modern
    ],
)
def test_each_step(step, text, expected):
    assert step(reference_tokens(text)) == reference_tokens(expected)


def test_breakdown_merges_cumulatively():
    references = [reference_tokens(r"{ \cal L } \, = \left ( x \right )")]
    predictions = [reference_tokens(r"\mathcal { L } = ( x )")]
    rows = n.breakdown(predictions, references)
    assert [label for label, _ in rows] == [label for label, _ in n.STEPS]
    distances = [s.edit_distance for _, s in rows]
    assert distances[0] > distances[1] > distances[2] > 0  # each step removes some
    assert distances[3] == 0 and rows[3][1].exact_match == 1.0


def test_a_real_misreading_survives_every_step():
    rows = n.breakdown([reference_tokens("x ^ { 2 }")], [reference_tokens("y ^ { 2 }")])
    assert all(s.edit_distance > 0 and s.exact_match == 0 for _, s in rows)


def _report(path, kept: int, count: int):
    worst = [{"index": i, "edit_distance": 0.5, "reference": r"a \, b",
              "prediction": "a b"} for i in range(kept)]
    entry = {"model": {"name": "bundled"}, "metrics": {"count": count}, "worst": worst}
    path.write_text(json.dumps({"reports": [entry]}), encoding="utf-8")
    return path


def test_main_prints_a_table_per_model(tmp_path, capsys):
    assert n.main([str(_report(tmp_path / "r.json", 3, 3))]) == 0
    out = capsys.readouterr().out
    assert out.startswith("bundled")
    assert "| as scored | 0.3333 | 0.0% |" in out
    assert "| spacing commands ignored | 0.0000 | 100.0% |" in out


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "--worst 5"),  # a report that kept only the worst 2 of 5
        ('{"metrics": {}}', "not a snaptex eval report"),
        ("not json", "cannot read"),
    ],
)
def test_reports_it_cannot_use_are_refused(tmp_path, capsys, content, message):
    path = tmp_path / "r.json"
    if content is None:
        _report(path, 2, 5)
    else:
        path.write_text(content, encoding="utf-8")
    assert n.main([str(path)]) == 2
    assert message in capsys.readouterr().err
