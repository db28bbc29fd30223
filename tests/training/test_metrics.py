"""Metric tables: identical strings score perfectly, known pairs give known values."""

import math

import pytest

from model.options import SEED_PROMPT
from training.evaluate.metrics import (
    bleu4,
    edit_distance,
    make_compute_metrics,
    prediction_tokens,
    reference_tokens,
    score_texts,
    score_tokens,
)


@pytest.mark.parametrize(
    "text",
    [
        r"\frac { 1 } { 2 }",
        r"x ^ { 2 } + y ^ { 2 } = z ^ { 2 }",
        r"\int _ { 0 } ^ { \infty } e ^ { - x } d x = 1",
        r"\begin{pmatrix} a & b \\ c & d \end{pmatrix}",
    ],
)
def test_identical_strings_score_perfectly(text):
    scores = score_texts([text], [text])
    assert scores.bleu == pytest.approx(1.0)
    assert scores.edit_distance == 0.0
    assert scores.exact_match == 1.0
    assert scores.empty_share == 0.0


@pytest.mark.parametrize(
    ("prediction", "reference"),
    [
        (r"\frac{1}{2}", r"\frac { 1 } { 2 }"),
        (r"x^{2}+y^{2}", r"x ^ { 2 } + y ^ { 2 }"),
        (r"\alpha x", r"\alpha   x"),
    ],
)
def test_spacing_does_not_matter(prediction, reference):
    scores = score_texts([prediction], [reference])
    assert scores.exact_match == 1.0
    assert scores.edit_distance == 0.0


def test_spacing_that_changes_meaning_still_counts():
    # \alpha x and \alphax are different LaTeX; the tokens must differ.
    assert prediction_tokens(r"\alpha x") != prediction_tokens(r"\alphax")


@pytest.mark.parametrize(
    ("prediction", "reference", "expected"),
    [
        (["a", "b", "c"], ["a", "b", "d"], 1 / 3),
        (["a", "b"], ["a", "b", "c", "d"], 2 / 4),
        ([], ["a", "b"], 1.0),
        ([], [], 0.0),
        (["x"], ["y"], 1.0),
        (["a", "c", "b"], ["a", "b", "c"], 2 / 3),
    ],
)
def test_edit_distance_known_values(prediction, reference, expected):
    assert edit_distance(prediction, reference) == pytest.approx(expected)


def test_bleu_known_value():
    # Last of 5 tokens wrong: precisions 4/5, 3/4, 2/3, 1/2; no brevity penalty.
    value = bleu4([list("abcdf")], [list("abcde")])
    assert value == pytest.approx((4 / 5 * 3 / 4 * 2 / 3 * 1 / 2) ** 0.25)


def test_bleu_brevity_penalty():
    # A correct prefix of 4 of 5 tokens: precisions 1, brevity penalty exp(1 - 5/4).
    value = bleu4([list("abcd")], [list("abcde")])
    assert value == pytest.approx(math.exp(1 - 5 / 4))


def test_bleu_no_overlap_is_zero():
    assert bleu4([list("wxyz")], [list("abcd")]) == 0.0


def test_corpus_scores_and_empty_share():
    scores = score_tokens([["a", "b"], [], ["c"]], [["a", "b"], ["x"], ["d"]])
    assert scores.exact_match == pytest.approx(1 / 3)
    assert scores.empty_share == pytest.approx(1 / 3)
    assert scores.edit_distance == pytest.approx((0 + 1 + 1) / 3)
    assert scores.count == 3


def test_prediction_goes_through_the_apps_cleanup():
    # Special tokens and an echoed prompt are stripped as the app strips them.
    raw = SEED_PROMPT + r" x ^ { 2 }"
    assert prediction_tokens(raw) == reference_tokens("x^{2}")


def test_length_mismatch_is_an_error():
    with pytest.raises(ValueError, match="differ"):
        score_tokens([["a"]], [])


def test_compute_metrics_for_trainer(tiny_model_dir):
    import numpy as np
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    ids = tokenizer([r"\frac { 1 } { 2 }", "x + y = z"], padding=True)["input_ids"]
    labels = np.array(ids)
    labels[labels == tokenizer.pad_token_id] = -100

    class Prediction:
        predictions = np.array(ids)
        label_ids = labels

    metrics = make_compute_metrics(tokenizer)(Prediction())
    assert metrics["exact_match"] == 1.0
    assert metrics["bleu"] == pytest.approx(1.0)
    assert metrics["edit_distance"] == 0.0


def test_eval_report_ranks_worst_and_counts_head_to_head():
    from training.evaluate.evaluator import Example, head_to_head, percentile, report_of

    examples = [
        Example(0, "x ^ { 2 }", "x^{2}", 10.0),
        Example(1, r"\frac { a } { b }", "", 30.0, error="bad image"),
        Example(2, "a + b", "a - b", 20.0),
    ]
    report = report_of(examples, worst=2)
    assert [w["index"] for w in report["worst"]] == [1, 2]
    assert report["worst"][0]["error"] == "bad image"
    assert report["failures"] == 1
    assert report["metrics"]["exact_match"] == pytest.approx(1 / 3, abs=1e-4)
    assert report["latency_ms"] == {"p50": 20.0, "p95": 30.0, "mean": 20.0}
    other = report_of(
        [Example(i, e.reference, e.reference, 1.0) for i, e in enumerate(examples)],
        worst=1,
    )
    assert head_to_head(report, other) == {
        "first_better": 0,
        "second_better": 2,
        "ties": 1,
    }
    assert percentile([5.0], 95) == 5.0
