"""The benchmark script runs end to end on the tiny model (figures are not asserted)."""

import json
import subprocess
import sys

import images_factory as f
import pytest
from worker_client import REPO

from bench.worker_latency import percentile


@pytest.mark.parametrize(("values", "q", "expected"), [
    ([1.0], 50, 1.0), ([1, 2, 3, 4], 50, 2), ([1, 2, 3, 4], 95, 4),
    (list(range(1, 101)), 95, 95), ([5, 1, 3], 50, 3),
])
def test_percentile(values, q, expected):
    assert percentile(values, q) == expected


def test_bench_reports_figures(tiny_model_dir, tmp_path):
    for i in range(3):
        (tmp_path / f"{i}.png").write_bytes(f.encode(f.equation()))
    done = subprocess.run(
        [sys.executable, "-m", "bench.worker_latency", "--model", str(tiny_model_dir), "--images",
         str(tmp_path), "--threads", "1", "--max-new-tokens", "4", "--json",
         "--ctc-weight", "0"],  # accepted through the protocol (no hint here: no effect)
        cwd=REPO, capture_output=True, timeout=300)
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    report = json.loads(done.stdout)
    assert report["images"] == 3 and report["failures"] == 0
    assert report["cold_start_s"] > 0 and report["latency_p95_s"] >= report["latency_p50_s"] > 0
    assert report["peak_rss_mb"] > 50


@pytest.fixture
def no_worker(monkeypatch):
    """Fails the test if a worker (and so a model) is started."""
    def measure(*args, **kwargs):
        raise AssertionError("a worker was started")

    monkeypatch.setattr("bench.worker_latency.measure", measure)


def test_a_folder_of_bad_images_never_starts_a_worker(tmp_path, no_worker, capsys):
    from bench import worker_latency as bench

    (tmp_path / "empty.png").write_bytes(b"")
    (tmp_path / "notes.png").write_text("not an image")
    assert bench.main(["--images", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert f"{tmp_path / 'empty.png'}: the image is empty (0 bytes)" in err
    assert f"{tmp_path / 'notes.png'}: not an image file (unrecognised format)" in err
    assert "no images found" in err


@pytest.mark.parametrize("argv", [
    ["--images", "/no/such/folder"],
    ["--model", "/no/such/model"],
    ["--beams", "0"],
    ["--unknown-flag"],
])
def test_usage_errors_are_refused_before_a_worker_starts(argv, tmp_path, no_worker, capsys):
    from bench import worker_latency as bench

    (tmp_path / "eq.png").write_bytes(f.encode(f.equation()))
    assert bench.main(["--images", str(tmp_path), *argv]) == 2
    assert capsys.readouterr().err.startswith("snaptex bench: ")
