"""Inference options and results: plain frozen dataclasses, standard library only.

The desktop app builds :class:`InferenceOptions` from its settings and sends them with
each request; the worker holds no per-user state. :class:`Prediction` is what comes back.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields
from typing import Any

# Beam width everyone gets unless they choose. Beams end many of the bundled model's loops
# (\hspace{.5cm} ten times over); with CTC in the search, 5 beams beat 3 on all three
# samples of im2latex test measured (1,100 images, bf16 and fp32) for ~5-10 % more
# time; see docs/adr/0004-bundled-model.md (snaptex eval --beams 3 vs 5).
DEFAULT_BEAMS = 5

# The seed tutorial's prompt, verbatim: T5Gemma-2 fine-tunes expect exactly this.
SEED_PROMPT = (
    "<start_of_image> Convert this equation image to LaTeX. Output only LaTeX."
)


# The tutorial's ``generate`` call; do_sample=False and early_stopping=True are what
# InferenceOptions.generation_kwargs always passes for beam search.
SEED_DECODING = {
    "max_new_tokens": 100,
    "num_beams": 3,
    "repetition_penalty": 1.2,
    "no_repeat_ngram_size": 4,
}


def check_ctc_weight(weight: float, what: str = "ctc_weight") -> None:
    """A CTC decoding weight (model/ctc_prefix.py) is a finite number >= 0."""
    if not (math.isfinite(weight) and weight >= 0):
        raise ValueError(f"{what} must be a finite number >= 0, not {weight}")


@dataclass(frozen=True)
class InferenceOptions:
    """How to decode one image. ``seed()`` gives the tutorial's settings."""

    num_beams: int = DEFAULT_BEAMS
    max_new_tokens: int = 512
    repetition_penalty: float = 1.0
    no_repeat_ngram_size: int = 0
    length_penalty: float = 1.0
    prompt: str = SEED_PROMPT
    # Flatten/invert/crop/upscale real snips. None: what the model folder's snaptex.json
    # says (``input.preprocess``; on when it says nothing); an explicit value wins.
    preprocess: bool | None = None
    # Weight of the encoder's CTC head in the search (joint CTC/attention decoding,
    # model/ctc_prefix.py); None: what the model folder's snaptex.json says (off for
    # models trained without a CTC encoder loss); 0: attention alone.
    ctc_weight: float | None = None

    @classmethod
    def seed(cls) -> InferenceOptions:
        """The tutorial's generation settings, verbatim: ``max_new_tokens=100,
        do_sample=False, num_beams=3, repetition_penalty=1.2, no_repeat_ngram_size=4,
        early_stopping=True`` (sampling is always off and beam search always stops
        early here, see :meth:`generation_kwargs`)."""
        return cls(**SEED_DECODING)

    def generation_kwargs(self) -> dict[str, Any]:
        """These options as ``generate`` / ``GenerationConfig`` keyword arguments."""
        return {
            "max_new_tokens": int(self.max_new_tokens),
            "num_beams": int(self.num_beams),
            "do_sample": False,
            "early_stopping": int(self.num_beams) > 1,
            "repetition_penalty": float(self.repetition_penalty),
            "no_repeat_ngram_size": int(self.no_repeat_ngram_size),
            "length_penalty": float(self.length_penalty),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> InferenceOptions:
        """Build from a protocol ``options`` object; unknown keys are ignored."""
        known = {f.name: f.type for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        options = cls(**values)
        options.validate()
        return options

    def validate(self) -> None:
        if not 1 <= int(self.num_beams) <= 16:
            raise ValueError("num_beams must be between 1 and 16")
        if not 1 <= int(self.max_new_tokens) <= 2048:
            raise ValueError("max_new_tokens must be between 1 and 2048")
        if float(self.repetition_penalty) <= 0:
            raise ValueError("repetition_penalty must be positive")
        if int(self.no_repeat_ngram_size) < 0:
            raise ValueError("no_repeat_ngram_size must be >= 0")
        if not math.isfinite(float(self.length_penalty)):
            raise ValueError("length_penalty must be a finite number")
        if self.ctc_weight is not None:
            check_ctc_weight(float(self.ctc_weight))
        if self.preprocess not in (None, True, False):
            raise ValueError("preprocess must be true, false or null")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Prediction:
    """One recognised image.

    ``latex`` is cleaned and ready to paste; ``latex_raw`` is the model's text as
    decoded. ``confidence`` is in [0, 1]: the self-check's calibrated probability that
    the reading is exactly right (model/selfcheck; the geometric-mean token probability
    for a model folder without a calibration). ``needs_check``: the user should look at
    it; ``check_reason`` says why in one line; ``check_region`` is the most different
    region (x0, y0, x1, y1 in 0..1 of the image as sent) when the render round-trip
    found one.
    """

    latex: str
    latex_raw: str
    confidence: float
    n_tokens: int
    timings_ms: dict[str, float] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    needs_check: bool = False
    check_reason: str | None = None
    check_region: list[float] | None = None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["warnings"] = list(self.warnings)
        return data
