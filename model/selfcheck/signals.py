"""Signals the model already has about its own reading (pure functions).

Every function takes plain numbers, token ids or strings, so each is table-tested without
a model: token log-probabilities of the chosen reading, the n-best list's scores and
texts, and the encoder's CTC head (its greedy reading and its per-token score of the
chosen sequence).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from model.postprocess import latex_tokens

# Spacing commands: a second beam that differs only by these is the same reading to the
# project's scorer's users (what they paste renders alike).
SPACING_COMMANDS = frozenset({r"\,", r"\;", r"\:", r"\!", "~", r"\ ", r"\quad", r"\qquad",
                              r"\enspace", r"\thinspace"})
# What a signal counts as when it cannot be computed (one beam, no CTC head): the value
# of a confident reading, so a missing signal never raises a flag by itself.
NO_GAP = 5.0


def log_prob_stats(token_log_probs: Sequence[float]) -> tuple[float, float]:
    """(mean, min) of the chosen tokens' log-probabilities; (0, 0) for none."""
    finite = [p for p in token_log_probs if math.isfinite(p)]
    if not finite:
        return 0.0, 0.0
    return sum(finite) / len(finite), min(finite)


def content_tokens(latex: str) -> list[str]:
    """Scorer tokens without spacing commands."""
    return [t for t in latex_tokens(latex) if t not in SPACING_COMMANDS]


def same_reading(a: str, b: str) -> bool:
    """Equal for the scorer once spacing commands are ignored."""
    return content_tokens(a) == content_tokens(b)


def token_distance(a: Sequence, b: Sequence) -> float:
    """Levenshtein distance / the longer length (0 = same, 1 = nothing shared)."""
    longest = max(len(a), len(b))
    if longest == 0:
        return 0.0
    previous = list(range(len(b) + 1))
    for i, x in enumerate(a, start=1):
        current = [i]
        for j, y in enumerate(b, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1,
                               previous[j - 1] + (x != y)))
        previous = current
    return previous[-1] / longest


def beam_signals(scores: Sequence[float], texts: Sequence[str]) -> dict[str, float]:
    """Agreement of the n-best list with its top reading.

    ``beam_gap``: top score minus the best score of a *different* reading (spacing-only
    variants are the same reading), NO_GAP if there is none. ``beam_agree``: share of the
    other beams that are the same reading. ``beam2_distance``: token distance of the
    first different reading from the top.
    """
    if not texts:
        return {"beam_gap": 0.0, "beam_agree": 0.0, "beam2_distance": 1.0}
    top = content_tokens(texts[0])
    others = [(s, content_tokens(t)) for s, t in zip(scores[1:], texts[1:], strict=True)]
    different = [(s, toks) for s, toks in others if toks != top]
    gap = scores[0] - different[0][0] if different else NO_GAP
    agree = (sum(toks == top for _, toks in others) / len(others)) if others else 1.0
    distance = token_distance(top, different[0][1]) if different else 0.0
    return {"beam_gap": min(float(gap), NO_GAP), "beam_agree": agree,
            "beam2_distance": distance}


def ctc_greedy(frame_best: Sequence[int], blank: int, first_symbol_id: int) -> list[int]:
    """Best-path CTC reading: collapse repeats, drop blanks and ids the head never
    learned (below ``first_symbol_id``)."""
    reading, last = [], None
    for token in frame_best:
        if token != last and token != blank and token >= first_symbol_id:
            reading.append(token)
        last = token
    return reading


def ctc_symbols(ids: Sequence[int], first_symbol_id: int) -> list[int]:
    """The ids of a decoded sequence that the CTC head scores."""
    return [t for t in ids if t >= first_symbol_id]


def ctc_signals(greedy: Sequence[int], chosen: Sequence[int],
                chosen_log_prob: float | None) -> dict[str, float]:
    """Agreement of the pixels-only CTC head with the decoder's reading:
    ``ctc_distance`` between its greedy reading and the chosen ids, and
    ``ctc_per_token``, its log-probability of the chosen sequence per symbol."""
    per_token = (chosen_log_prob / max(len(chosen), 1)
                 if chosen_log_prob is not None and math.isfinite(chosen_log_prob)
                 else -10.0)  # the head cannot align the reading at all
    return {"ctc_distance": token_distance(list(greedy), list(chosen)),
            "ctc_per_token": max(per_token, -10.0)}
