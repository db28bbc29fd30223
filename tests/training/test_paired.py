"""The paired bootstrap of an edit-distance change between two systems of one report."""

from __future__ import annotations

import json

import pytest

from training.evaluate import paired as p


@pytest.mark.parametrize(
    ("a", "b", "mean", "better", "worse", "spans_zero"),
    [
        ([0.2, 0.1, 0.3, 0.0], [0.2, 0.1, 0.3, 0.0], 0.0, 0, 0, True),  # same readings
        ([0.2] * 40, [0.1] * 40, -0.1, 40, 0, False),  # better everywhere: no doubt
        ([0.0] * 40, [0.1] * 40, 0.1, 0, 40, False),  # worse everywhere
        ([0.0, 0.5] * 20, [0.5, 0.0] * 20, 0.0, 20, 20, True),  # trades: no change
        ([0.3] * 39 + [0.0], [0.3] * 39 + [0.4], 0.01, 0, 1, True),  # one snip: noise
    ],
)
def test_paired_change(a, b, mean, better, worse, spans_zero):
    change = p.paired_change(a, b, resamples=500)
    assert change.count == len(a)
    assert change.mean == pytest.approx(mean)
    assert (change.better, change.worse) == (better, worse)
    assert change.low <= change.mean <= change.high
    assert (change.low <= 0 <= change.high) == spans_zero


def test_the_same_seed_gives_the_same_interval():
    a, b = [0.1, 0.4, 0.2, 0.0, 0.3], [0.0, 0.5, 0.1, 0.0, 0.2]
    assert p.paired_change(a, b, seed=3) == p.paired_change(a, b, seed=3)


@pytest.mark.parametrize(("a", "b"), [([], []), ([0.1], [0.1, 0.2])])
def test_lists_that_cannot_be_paired_are_refused(a, b):
    with pytest.raises(ValueError, match="equally long"):
        p.paired_change(a, b)


def _report(tmp_path):
    report = {"examples": [
        {"text": r"\frac{1}{2}", "old": "1/2", "new": r"\frac { 1 } { 2 }"},
        {"text": "x+y", "old": "x+y", "new": "x+y"},
        {"text": "a^{2}", "old": "a^{3}", "new": "a^{2}"},
    ]}
    path = tmp_path / "report.json"
    path.write_text(json.dumps(report))
    return report, path


def test_distances_are_scored_like_the_tables(tmp_path):
    report, _ = _report(tmp_path)
    assert p.distances(report, "new") == [0.0, 0.0, 0.0]  # spacing does not count
    old = p.distances(report, "old")
    assert old[1] == 0.0 and old[0] > 0 and old[2] == pytest.approx(1 / 5)  # a ^ { 3 }


@pytest.mark.parametrize(
    ("more", "start", "counts"),
    [
        ([], "new against old, 3 snips: edit distance -", "better on 2, worse on 0"),
        # a second report is pooled snip by snip
        ([{"text": "x", "old": "x", "new": "y"}], "new against old, 4 snips:",
         "better on 2, worse on 1"),
    ],
)
def test_the_command_prints_the_change(tmp_path, capsys, more, start, counts):
    _, path = _report(tmp_path)
    paths = [str(path)]
    if more:
        second = tmp_path / "second.json"
        second.write_text(json.dumps({"examples": more}))
        paths.append(str(second))
    assert p.main([*paths, "old", "new", "--resamples", "200"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(start)
    assert counts in out


def test_a_missing_report_among_several_is_named(tmp_path, capsys):
    _, first = _report(tmp_path)
    missing = tmp_path / "absent.json"
    assert p.main([str(first), str(missing), "old", "new"]) == 2
    assert "absent.json" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("content", "systems", "message"),
    [
        ("{}", ["old", "new"], "cannot read"),
        ('{"examples": [{"text": "x", "old": "x"}]}', ["old", "new"], "no system 'new'"),
    ],
)
def test_bad_reports_are_clear_errors(tmp_path, capsys, content, systems, message):
    path = tmp_path / "report.json"
    path.write_text(content)
    assert p.main([str(path), *systems]) == 2
    assert message in capsys.readouterr().err
