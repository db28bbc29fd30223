"""bench.startup_profile: cold start split into phases, each in a fresh interpreter."""

from __future__ import annotations

import json

import pytest

from bench import startup_profile as sp


def _run(**phases: float) -> dict[str, float]:
    run = dict.fromkeys(sp.PHASES, 1.0) | phases
    return run | {"total": sum(run[p] for p in sp.PHASES)}


@pytest.mark.parametrize(
    ("torch_times", "median"),
    [([2.0], 2.0), ([1.0, 3.0], 2.0), ([5.0, 1.0, 2.0], 2.0), ([1.2, 1.2, 9.0, 1.3], 1.25)],
)
def test_summary_takes_the_median_of_each_phase(torch_times, median):
    summary = sp.summarize([_run(torch=t) for t in torch_times])
    assert summary["torch"] == median and summary["load"] == 1.0
    assert set(summary) == {*sp.PHASES, "total"}


def test_summary_of_no_runs_is_an_error():
    with pytest.raises(ValueError, match="no runs"):
        sp.summarize([])


def test_table_names_every_phase_and_the_ready_time():
    text = sp.table(sp.summarize([_run(load=2.5)]))
    for phase in sp.PHASES:
        assert phase in text
    assert "ready:   6.50 s" in text  # every phase but the warm-up


def test_a_real_cold_start_of_the_bundled_model(capsys):
    assert sp.main(["--runs", "1", "--threads", "1", "--json"]) == 0
    (run,) = json.loads(capsys.readouterr().out)["runs"]
    assert all(run[p] > 0 for p in sp.PHASES)
    assert run["total"] == pytest.approx(sum(run[p] for p in sp.PHASES), abs=0.01)


def test_a_bad_model_folder_is_a_clear_error(tmp_path, capsys):
    assert sp.main(["--runs", "1", "--model", str(tmp_path)]) == 1
    assert "not a model folder" in capsys.readouterr().err


def test_runs_must_be_positive(capsys):
    with pytest.raises(SystemExit):
        sp.main(["--runs", "0"])
    assert "at least 1" in capsys.readouterr().err
