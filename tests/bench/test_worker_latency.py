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
