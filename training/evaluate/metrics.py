"""Image-to-LaTeX scores: BLEU-4, normalised edit distance, exact match, empty share.

All are computed over LaTeX tokens from :func:`model.postprocess.latex_tokens`, so
``\\frac { 1 } { 2 }`` and ``\\frac{1}{2}`` are the same answer. A prediction is first
cleaned by :func:`model.postprocess.clean_latex`, exactly as the app cleans what it
pastes; a reference is only re-spaced (cutting "loops" out of ground truth would
change the question). Training-time evaluation and ``snaptex eval`` share this module.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Sequence
from dataclasses import asdict, dataclass

from rapidfuzz.distance import Levenshtein

from model.postprocess import clean_latex, latex_tokens

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Scores:
    """Corpus-level scores; all in [0, 1]. Edit distance: lower is better."""

    bleu: float
    edit_distance: float
    exact_match: float
    empty_share: float
    count: int

    def to_dict(self) -> dict[str, float]:
        return {
            k: (round(v, 4) if isinstance(v, float) else v)
            for k, v in asdict(self).items()
        }


def prediction_tokens(text: str, prompt: str | None = None) -> list[str]:
    """What the app would paste, as tokens (idempotent on already-cleaned text)."""
    return latex_tokens(clean_latex(text, prompt))


def reference_tokens(text: str) -> list[str]:
    return latex_tokens(text)


def edit_distance(prediction: Sequence[str], reference: Sequence[str]) -> float:
    """Token Levenshtein distance / the longer length: 0 = same, 1 = nothing shared."""
    longest = max(len(prediction), len(reference))
    if longest == 0:
        return 0.0
    return Levenshtein.distance(list(prediction), list(reference)) / longest


def bleu4(
    predictions: Sequence[Sequence[str]], references: Sequence[Sequence[str]]
) -> float:
    """Corpus BLEU-4 (uniform weights, brevity penalty, no smoothing) as in im2latex."""
    # nltk takes about 1 s to import; `snaptex eval --help` should not wait for it.
    from nltk.translate.bleu_score import corpus_bleu

    if not predictions or not any(references):
        return 0.0
    with warnings.catch_warnings():
        # nltk warns when a corpus has no 4-gram match; the score (0) says it already.
        warnings.simplefilter("ignore")
        return float(
            corpus_bleu([[list(r)] for r in references], [list(p) for p in predictions])
        )


def score_tokens(
    predictions: Sequence[Sequence[str]], references: Sequence[Sequence[str]]
) -> Scores:
    if len(predictions) != len(references):
        raise ValueError("predictions and references differ in length")
    count = len(references)
    if count == 0:
        return Scores(0.0, 0.0, 0.0, 0.0, 0)
    pairs = list(zip(predictions, references, strict=True))
    distances = [edit_distance(p, r) for p, r in pairs]
    return Scores(
        bleu=bleu4(predictions, references),
        edit_distance=sum(distances) / count,
        exact_match=sum(list(p) == list(r) for p, r in pairs) / count,
        empty_share=sum(not p for p in predictions) / count,
        count=count,
    )


def score_texts(
    predictions: Sequence[str], references: Sequence[str], prompt: str | None = None
) -> Scores:
    """Raw model texts against reference LaTeX."""
    return score_tokens(
        [prediction_tokens(p, prompt) for p in predictions],
        [reference_tokens(r) for r in references],
    )


def make_compute_metrics(tokenizer, prompt: str | None = None):
    """A ``compute_metrics`` for ``Seq2SeqTrainer(predict_with_generate=True)``."""
    import numpy as np  # 0.2 s; only training-time evaluation needs it

    def compute_metrics(eval_prediction) -> dict[str, float]:
        generated, labels = eval_prediction.predictions, eval_prediction.label_ids
        if isinstance(generated, tuple):
            generated = generated[0]
        pad = tokenizer.pad_token_id
        generated = np.where(generated < 0, pad, generated)  # -100 fill between batches
        labels = np.where(labels < 0, pad, labels)
        texts = tokenizer.batch_decode(generated, skip_special_tokens=True)
        references = tokenizer.batch_decode(labels, skip_special_tokens=True)
        scores = score_texts(texts, references, prompt)
        return {k: v for k, v in scores.to_dict().items() if k != "count"}

    return compute_metrics
