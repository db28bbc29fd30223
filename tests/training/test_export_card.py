"""The model card's evaluation section says how to rerun what it reports."""

from __future__ import annotations

import pytest

from training.export.bundled import eval_command, evaluation_section

TEST500 = {"data": {"source": "im2latex-100k", "split": "test", "examples": 500,
                    "shuffle_seed": 0},
           "options": {"num_beams": 5, "max_new_tokens": 256}}


@pytest.mark.parametrize(
    ("report", "expected"),
    [
        (TEST500, "snaptex eval --model model/bundled --split test --limit 500 "
                  "--shuffle-seed 0 --max-new-tokens 256"),
        ({"data": {"split": "validation", "examples": 100, "shuffle_seed": None},
          "options": {}}, "snaptex eval --model model/bundled --split validation --limit 100"),
        ({}, "snaptex eval --model model/bundled"),
    ],
)
def test_eval_command_follows_the_report(report, expected):
    assert eval_command(report) == expected


def _report():
    return {**TEST500, "reports": [{
        "metrics": {"bleu": 0.7, "edit_distance": 0.15, "exact_match": 0.17, "empty_share": 0.0},
        "latency_ms": {"p50": 200.0, "p95": 390.0},
        "model": {"device": "cpu", "dtype": "bfloat16", "ctc_weight": 0.45},
    }]}


def test_section_reproduces_from_the_report_unless_told_otherwise():
    assert ("Reproduce: `snaptex eval --model model/bundled --split test --limit 500 "
            "--shuffle-seed 0 --max-new-tokens 256`") in evaluation_section(_report(), "")
    assert "Reproduce: `snaptex eval --threads 2`" in evaluation_section(
        _report(), "snaptex eval --threads 2")


def test_a_report_that_recorded_its_command_is_quoted_as_is():
    report = {**_report(), "command": "snaptex eval --model model/bundled --split test"}
    assert "Reproduce: `snaptex eval --model model/bundled --split test`" in evaluation_section(
        report, "")


def test_no_report_says_so():
    assert "Not evaluated" in evaluation_section(None, "")
