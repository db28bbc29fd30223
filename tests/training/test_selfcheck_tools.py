"""The dev set builder's formula choice, the calibration command's re-ranking rule,
and the reliability plot."""

from __future__ import annotations

import json

import pytest

from training.data import devset
from training.evaluate import calibrate, reliability_plot
from training.render.formulas import is_validation


def test_held_out_formulas_are_the_validation_hash_split_minus_im2latex(tmp_path):
    formulas = tmp_path / "formulas"
    candidates = [f"x_{{{i}}}+y^{{{i}}}=z" for i in range(3000)]
    for source in devset.SOURCES:
        (formulas / source).mkdir(parents=True)
        (formulas / source / "formulas.txt").write_text("\n".join(candidates) + "\n")
    im2latex = tmp_path / "im2latex.txt"  # formulas the model read: never in the set
    held = [f for f in candidates if is_validation(f, devset.VALIDATION_FRACTION)]
    im2latex.write_text(held[0] + "\n")
    chosen = devset.held_out_formulas(formulas, im2latex, seed=0)
    texts = [f for _, f in chosen]
    assert sorted(texts) == sorted(held[1:])  # each once, though three lists hold it
    assert held and held[0] not in texts
    assert chosen == devset.held_out_formulas(formulas, im2latex, seed=0)


def candidate(right, missing, score=-0.1):
    rt = {"rt_missing": missing, "rt_extra": 0.0, "rt_failed": 0.0, "rt_aspect": 0.0}
    return {"latex": "", "score": score, "right": right, "rt": rt}


@pytest.mark.parametrize(
    ("candidates", "margin", "picked"),
    [
        ([candidate(False, 0.5), candidate(True, 0.1)], None, 0),  # off: the top
        ([candidate(False, 0.5), candidate(True, 0.1)], 0.2, 1),
        ([candidate(False, 0.5), candidate(True, 0.4)], 0.2, 0),  # not better by enough
        ([candidate(True, 0.1), candidate(False, 0.0)], 0.2, 0),
        ([candidate(False, 0.9), candidate(False, 0.5), candidate(True, 0.1),
          candidate(False, 0.0)], 0.2, 2),  # only the first RERANK_DEPTH may win
        ([candidate(True, 0.3)], 0.0, 0),
    ],
)
def test_rerank_choice(candidates, margin, picked):
    record = {"candidates": candidates}
    assert calibrate.rerank_choice(record, margin) is candidates[picked]


def test_rerank_stays_off_when_it_does_not_help():
    rows = [{"candidates": [candidate(True, 0.5), candidate(False, 0.0)]}] * 3
    effect = calibrate.rerank_effect(rows, rows)
    assert effect["margin"] is None
    assert effect["held_out_exact_reranked"] == effect["held_out_exact_top"] == 1.0


def test_reliability_plot_writes_a_png(tmp_path):
    pytest.importorskip("matplotlib")
    bins = [{"low": 0.0, "high": 0.1, "count": 3, "confidence": 0.05, "accuracy": 0.0},
            {"low": 0.9, "high": 1.0, "count": 5, "confidence": 0.95, "accuracy": 0.8}]
    figures = {"reliability": bins, "threshold": 0.5, "count": 8, "auroc": 0.9,
               "ece": 0.1, "catch_rate": 0.8, "false_flag_rate": 0.2}
    report = tmp_path / "report.json"
    report.write_text(json.dumps({"variants": {reliability_plot.VARIANT: figures}}))
    out = tmp_path / "plot.png"
    assert reliability_plot.main(["--report", str(report), "--out", str(out)]) == 0
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert reliability_plot.main(["--report", str(tmp_path / "none.json")]) == 1


@pytest.mark.parametrize(
    ("lengths", "shares", "count", "expected"),
    [
        # bins: <=20, 21-40, 41-60, ...; the pool's order is kept
        ([10, 30, 50, 10, 30, 50], [1 / 3, 1 / 3, 1 / 3, 0, 0, 0, 0, 0], 3, [10, 30, 50]),
        ([10, 10, 10, 30], [0.5, 0.5, 0, 0, 0, 0, 0, 0], 4, [10, 10, 10, 30]),  # a short bin
        ([10, 10, 30, 30], [0.0, 1.0, 0, 0, 0, 0, 0, 0], 2, [30, 30]),
        ([300, 10], [0, 0, 0, 0, 0, 0, 0, 1.0], 1, [300]),  # past the last edge
        ([10, 30], [0.5, 0.5, 0, 0, 0, 0, 0, 0], 0, []),
    ],
)
def test_match_lengths_follows_the_shares(lengths, shares, count, expected):
    pairs = [("src", "x" * n) for n in lengths]
    chosen = devset.match_lengths(pairs, shares, count)
    assert [len(f) for _, f in chosen] == expected


def test_length_shares_count_non_space_characters():
    shares = devset.length_shares(["a b c", "x" * 30, "y" * 500])
    assert shares[0] == shares[1] == shares[-1] == pytest.approx(1 / 3)


def test_feature_caches_are_per_model_weights(tmp_path):
    one, two, same = (tmp_path / n for n in ("one", "two", "same"))
    for folder, payload in ((one, b"a" * 10), (two, b"b" * 10), (same, b"a" * 10)):
        folder.mkdir()
        (folder / "model.safetensors").write_bytes(payload)
    assert calibrate.model_fingerprint(str(one)) == calibrate.model_fingerprint(str(same))
    assert calibrate.model_fingerprint(str(one)) != calibrate.model_fingerprint(str(two))
    assert len(calibrate.model_fingerprint("some/hub-id")) == 12


def test_calibrate_names_a_missing_dev_set(tmp_path, capsys):
    real = tmp_path / "real"
    real.mkdir()
    (real / "devset.jsonl").write_text("")
    assert calibrate.main(["--devset", str(real), str(tmp_path / "gone")]) == 2
    assert "no dev set at" in capsys.readouterr().err


def test_a_lengths_like_split_without_formulas_is_a_clear_error(tmp_path, capsys):
    formulas = tmp_path / "formulas"
    for source in devset.SOURCES:
        (formulas / source).mkdir(parents=True)
        (formulas / source / "formulas.txt").write_text("x+y=z\n")
    empty = tmp_path / "split"
    empty.mkdir()
    code = devset.main(["--out", str(tmp_path / "out"), "--n", "2", "--formulas", str(formulas),
                        "--im2latex", str(tmp_path / "none"), "--lengths-like", str(empty)])
    assert code == 2
    assert "no formulas in" in capsys.readouterr().err
