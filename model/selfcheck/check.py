"""One reading's self-check: its signals, calibrated confidence, flag, reason, region.

:func:`signals_of` gathers every signal of one reading (the recogniser calls it with
what its search produced); :func:`assess` turns them into what the user sees.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from PIL import Image

from model.selfcheck import roundtrip, signals
from model.selfcheck.calibrate import Calibration

# Without a fitted calibration the geometric-mean token probability stands in, and
# readings below this are flagged (the folder's calibration replaces both).
UNCALIBRATED_THRESHOLD = 0.8
# Round-trip ink misplacement (rt_missing + rt_extra) above which a flagged reading is
# blamed on the layout: ~the 90th percentile of right readings on the PDF-snip dev set
# (mathtext draws another font, so right readings differ a little too).
LAYOUT_MISMATCH = 0.2

# Which signal a flag is blamed on -> the one line the user reads.
REASONS: dict[str, str] = {
    "rt": "the rendered result differs from the snip here",
    "beam": "another reading scored almost as high",
    "ctc": "a pixel-only second reading disagrees",
    "logp": "the model was unsure of some symbols",
}


@dataclass(frozen=True)
class Candidate:
    """One entry of the n-best list."""

    latex: str  # cleaned, what would be pasted
    score: float  # the search's (length-normalised) score
    ids: tuple[int, ...]  # generated token ids, specials included


@dataclass(frozen=True)
class Check:
    confidence: float
    needs_check: bool
    check_reason: str | None
    check_region: list[float] | None
    features: dict[str, float] = field(default_factory=dict)
    timings_ms: dict[str, float] = field(default_factory=dict)


def ctc_sequence_log_prob(frames, symbols: Sequence[int], blank: int) -> float | None:
    """log P_ctc(symbols | frames) for one image's (frames, vocab) log-probabilities;
    None when the frames are too few to hold them."""
    import torch

    if not symbols:
        return float(frames[:, blank].sum())
    if len(symbols) > frames.shape[0]:
        return None
    loss = torch.nn.functional.ctc_loss(
        frames.float().unsqueeze(1), torch.tensor([list(symbols)]),
        torch.tensor([frames.shape[0]]), torch.tensor([len(symbols)]),
        blank=blank, reduction="sum", zero_infinity=False)
    value = -float(loss)
    return value if math.isfinite(value) else None


def signals_of(
    candidates: Sequence[Candidate],
    token_log_probs: Sequence[float],
    frames=None,
    blank: int = 0,
    first_symbol_id: int = 4,
    image: Image.Image | None = None,
    with_round_trip: bool = True,
) -> tuple[dict[str, float], tuple[float, ...] | None, dict[str, float]]:
    """(features, most different region or None, milliseconds per signal)."""
    timings: dict[str, float] = {}
    started = time.perf_counter()
    mean, low = signals.log_prob_stats(token_log_probs)
    features = {"logp_mean": mean, "logp_min": low,
                "n_tokens_log": math.log1p(len(candidates[0].ids) if candidates else 0)}
    features.update(signals.beam_signals([c.score for c in candidates],
                                         [c.latex for c in candidates]))
    if frames is not None and candidates:
        chosen = signals.ctc_symbols(candidates[0].ids, first_symbol_id)
        greedy = signals.ctc_greedy(frames.argmax(-1).tolist(), blank, first_symbol_id)
        features.update(signals.ctc_signals(
            greedy, chosen, ctc_sequence_log_prob(frames, chosen, blank)))
    else:
        features.update({"ctc_distance": 0.0, "ctc_per_token": 0.0})
    timings["model_signals"] = (time.perf_counter() - started) * 1e3
    region = None
    if with_round_trip and image is not None and candidates:
        more, region, spent = round_trip_signals(image, candidates[0].latex)
        features.update(more)
        timings.update(spent)
    return features, region, {k: round(v, 2) for k, v in timings.items()}


def round_trip_signals(image: Image.Image, latex: str):
    """(round-trip features, most different region or None, milliseconds)."""
    started = time.perf_counter()
    comparison = roundtrip.round_trip(roundtrip.ink_of(image), latex)
    spent = {"round_trip": round((time.perf_counter() - started) * 1e3, 2)}
    return comparison.features, comparison.region, spent


def layout_differs(features: Mapping[str, float]) -> bool:
    """The round trip's own verdict, for a calibration that does not read it: the
    render's ink is misplaced more than in nine of ten right readings of the dev set.
    A render that failed says nothing (mathtext lacks many commands, e.g. \\boxed)."""
    if "rt_failed" not in features or features["rt_failed"]:
        return False
    return features["rt_missing"] + features["rt_extra"] > LAYOUT_MISMATCH


def _blamed(calibration: Calibration, features: Mapping[str, float]) -> str:
    """The signal group that pulls the confidence down the most."""
    pull: dict[str, float] = {}
    for name, mean, scale, coef in zip(calibration.features, calibration.mean,
                                       calibration.scale, calibration.coef, strict=True):
        group = name.split("_", 1)[0]
        contribution = coef * (float(features.get(name, mean)) - mean) / scale
        pull[group] = pull.get(group, 0.0) + contribution
    known = {g: v for g, v in pull.items() if g in REASONS}
    return min(known, key=known.get) if known else "logp"


def assess(features: Mapping[str, float], region, calibration: Calibration | None,
           fallback_confidence: float) -> Check:
    """Calibrated confidence, flag and reason (``fallback_confidence`` when the model
    folder has no calibration)."""
    if calibration is None:
        confidence, threshold, blame = fallback_confidence, UNCALIBRATED_THRESHOLD, "logp"
    else:
        confidence = calibration.probability(features)
        threshold, blame = calibration.threshold, _blamed(calibration, features)
        if not any(n.startswith("rt_") for n in calibration.features) and layout_differs(
                features):
            blame = "rt"
    needs_check = confidence < threshold
    if blame == "rt" and region is None:
        reason = "the rendered result does not match the snip's layout"
    else:
        reason = REASONS[blame]
    return Check(
        confidence=round(confidence, 4),
        needs_check=needs_check,
        check_reason=reason if needs_check else None,
        check_region=list(region) if needs_check and blame == "rt" and region else None,
        features=dict(features),
    )
