"""Smoke test of the shape benchmark (tiny shape): report keys, positive figures."""

from __future__ import annotations

import json

import pytest

from bench.t5gemma2_shapes import all_configs, check_targets, main, selected_configs

TIMINGS = ("encoder_s", "vision_s", "decoder_per_token_s", "e2e_s")


def test_tiny_benchmark_report(tmp_path, capsys):
    out = tmp_path / "bench.json"
    argv = [
        "--shape",
        "tiny",
        "--configs",
        "stock-fp32-896,pruned-bf16-224-auto",
        "--repeats",
        "1",
        "--tokens",
        "5",
        "--pruned-vocab",
        "512",
        "--json",
        str(out),
    ]
    assert main(argv) == 0
    report = json.loads(out.read_text())
    assert "| stock-fp32-896 |" in capsys.readouterr().out
    assert report["reference"] == "stock-fp32-896"
    stock, pruned = report["results"]
    assert (stock["vocab_size"], pruned["vocab_size"]) == (262_144, 512)
    assert pruned["image_size"] < stock["image_size"]
    for result in (stock, pruned):
        assert all(result["median"][key] > 0 for key in TIMINGS)
        assert result["peak_rss_mb"] > 0 and result["median"]["new_tokens"] == 5
        assert result["median"]["encoder_calls"] == 1
        assert set(result["ratio_vs_stock_fp32"]) == set(TIMINGS)
    assert stock["ratio_vs_stock_fp32"]["e2e_s"] == pytest.approx(1.0)
    assert set(report["targets"]) == {
        "decoder_per_token_pruned",
        "encoder_448",
        "encoder_224",
        "e2e_best",
    }


def test_unknown_config_is_a_one_line_error(capsys):
    assert main(["--shape", "tiny", "--configs", "nope"]) == 2
    assert capsys.readouterr().err.startswith("error: unknown configuration")


def test_config_names_round_trip():
    names = selected_configs("all")
    assert names == list(all_configs()) and "stock-fp32-896" in names


def test_targets_are_checked_against_the_issue_limits():
    results = [
        {
            "config": "stock-fp32-896",
            "ratio_vs_stock_fp32": dict.fromkeys(TIMINGS, 1.0),
        },
        {
            "config": "pruned-bf16-448",
            "ratio_vs_stock_fp32": {
                "encoder_s": 0.4,
                "vision_s": 0.4,
                "decoder_per_token_s": 0.2,
                "e2e_s": 0.3,
            },
        },
        {
            "config": "pruned-bf16-224",
            "ratio_vs_stock_fp32": {
                "encoder_s": 0.25,
                "vision_s": 0.2,
                "decoder_per_token_s": 0.5,
                "e2e_s": 0.1,
            },
        },
    ]
    targets = check_targets(results)
    assert targets["decoder_per_token_pruned"] == {
        "ratio": 0.2,
        "limit": 1 / 3,
        "met": True,
    }
    assert targets["encoder_448"]["met"] is True
    assert targets["encoder_224"] == {"ratio": 0.25, "limit": 0.2, "met": False}
    assert targets["e2e_best"]["ratio"] == 0.1
