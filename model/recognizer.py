"""``Recognizer.recognize(image, options) -> Prediction``: the one inference API."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from PIL import Image

from model.adapters import prepares_snips
from model.ctc_head import frame_log_probs, reading_order_states
from model.errors import BadImageError, CancelledError
from model.layout.compose import compose_rows, row_environment
from model.layout.rows import row_boxes
from model.options import InferenceOptions, Prediction
from model.postprocess import clean_latex_report
from model.preprocess import prepare
from model.selfcheck.check import (
    REASONS,
    UNCALIBRATED_THRESHOLD,
    Candidate,
    assess,
    round_trip_signals,
    signals_of,
)

logger = logging.getLogger(__name__)

ShouldStop = Callable[[], bool]


def _stop_criteria(should_stop: ShouldStop | None):
    """A StoppingCriteria polled between decoding steps (cancel within one token)."""
    import torch
    from transformers import StoppingCriteria, StoppingCriteriaList

    class _Cancel(StoppingCriteria):
        def __call__(self, input_ids, scores, **kwargs):
            flag = bool(should_stop and should_stop())
            return torch.full(
                (input_ids.shape[0],), flag, dtype=torch.bool, device=input_ids.device
            )

    return StoppingCriteriaList([_Cancel()])


class Recognizer:
    """A loaded model + processor + adapter. Not thread-safe: one request at a time."""

    def __init__(self, model, processor, adapter, info, ctc=None, self_check=None) -> None:
        self.model = model
        self.processor = processor
        self.adapter = adapter
        self.info = info
        self.tokenizer = processor.tokenizer
        self.ctc = ctc  # model.ctc_head.CtcDecoding, or None
        # model.selfcheck.calibrate.Calibration from snaptex.json, or None (uncalibrated)
        self.self_check = self_check

    def warm_up(self, options: InferenceOptions | None = None) -> float:
        """One short throw-away recognition; its seconds. The first ``generate`` pays
        for setting up kernels and caches (measured on a 2-core Zen 4, bf16: the first
        of three test images took 0.65 s cold, 0.50 s the second time; the warm-up takes
        0.14 s), so the worker does it while the user is still selecting a region."""
        from dataclasses import replace

        from model.images import formula_image

        options = replace(options or InferenceOptions(), max_new_tokens=8)
        started = time.perf_counter()
        self.recognize(formula_image(), options)
        return time.perf_counter() - started

    def recognize(
        self,
        image: Image.Image,
        options: InferenceOptions | None = None,
        should_stop: ShouldStop | None = None,
    ) -> Prediction:
        return self.recognize_batch([image], options, should_stop)[0]

    def recognize_batch(
        self,
        images: Sequence[Image.Image],
        options: InferenceOptions | None = None,
        should_stop: ShouldStop | None = None,
    ) -> list[Prediction]:
        options = options or InferenceOptions()
        readings, timings = self.readings(images, options, should_stop)
        per_image = {k: round(v / len(images), 2) for k, v in timings.items()}
        predictions = []
        for reading in readings:
            rows = self.read_rows(reading, options, should_stop)
            predictions.append(self._prediction(reading, per_image) if rows is None
                               else self._rows_prediction(rows, per_image))
        return predictions

    def _prediction(self, reading: Reading, timings_ms: dict) -> Prediction:
        check, check_ms = self.check(reading)
        return Prediction(
            latex=reading.cleaned.latex,
            latex_raw=reading.raw_text,
            confidence=check.confidence,
            n_tokens=len(reading.candidates[0].ids),
            timings_ms={**timings_ms, **check_ms},
            warnings=reading.cleaned.warnings,
            needs_check=check.needs_check,
            check_reason=check.check_reason,
            check_region=check.check_region,
        )

    def read_rows(self, reading: Reading, options: InferenceOptions,
                  should_stop: ShouldStop | None = None) -> RowsReading | None:
        """A multi-line block read again row by row (model/layout), when the model
        folder asks for it, the whole-image reading is an aligned or gathered block and
        the image has rows to cut; else None."""
        if not self.adapter.split_rows:
            return None
        environment = row_environment(reading.cleaned.latex)
        if environment is None:
            return None
        started = time.perf_counter()
        boxes = row_boxes(reading.image)
        if len(boxes) < 2:
            return None
        crops = [reading.image.crop(box) for box in boxes]
        rows: list[Reading] = []
        try:
            # One row at a time: on 46 multi-line snips (bench, 2 cores) searching four
            # rows together took the worker's peak memory from 741 MB to 1.1 GB and its
            # mean latency from 0.66 s to 0.62 s only.
            for crop in crops:
                rows.extend(self.readings([crop], options, should_stop)[0])
        except BadImageError as exc:  # a crop pre-processing refuses: keep the whole reading
            logger.info("reading the block whole: a row could not be read (%s)", exc)
            return None
        seconds = time.perf_counter() - started
        return RowsReading(environment, reading.image.height, boxes, rows, seconds * 1e3)

    def _rows_prediction(self, block: RowsReading, timings_ms: dict) -> Prediction:
        """One prediction for a block read row by row. Its confidence is the product of
        the rows' (every row must be right); the first doubtful row is the one named."""
        checks = [self.check(row)[0] for row in block.rows]
        confidence = math.prod(check.confidence for check in checks)
        threshold = (self.self_check.threshold if self.self_check is not None
                     else UNCALIBRATED_THRESHOLD)
        flagged = next((i for i, c in enumerate(checks) if c.needs_check), None)
        needs_check = flagged is not None or confidence < threshold
        reason, region = None, None
        if flagged is not None:
            reason = f"row {flagged + 1}: {checks[flagged].check_reason}"
            region = block.region_in_image(flagged, checks[flagged].check_region)
        elif needs_check:
            reason = REASONS["logp"]
        cleaned = clean_latex_report(
            compose_rows([row.cleaned.latex for row in block.rows], block.environment))
        return Prediction(
            latex=cleaned.latex,
            latex_raw=compose_rows([row.raw_text for row in block.rows], block.environment),
            confidence=round(confidence, 4),
            n_tokens=sum(len(row.candidates[0].ids) for row in block.rows),
            timings_ms={**timings_ms, "rows": round(block.ms, 2)},
            warnings=tuple(dict.fromkeys(w for row in block.rows for w in row.cleaned.warnings)),
            needs_check=needs_check,
            check_reason=reason,
            check_region=region,
        )

    def _generate(self, inputs, options: InferenceOptions, should_stop):
        import torch

        from model.ctc_prefix import logits_processor

        weight = self.ctc_weight(options)
        # The whole n-best list comes back: the self-check reads the beams' agreement.
        n_best = options.num_beams
        with torch.inference_mode():
            if not weight:
                return self.search(inputs, options, should_stop, n_best=n_best), None
            # The encoder runs once, here: its states feed both the search and CTC. The
            # scorer reads them first, as generate expands them per beam in place.
            encoder_outputs = self.model.get_encoder()(pixel_values=inputs["pixel_values"])
            frames = self._frame_log_probs(encoder_outputs.last_hidden_state)
            scorer = self._prefix_scorer(frames, options, weight)
            output = self.search({"encoder_outputs": encoder_outputs}, options,
                                 should_stop, logits_processor=logits_processor(scorer),
                                 n_best=n_best)
            return output, frames

    def ctc_weight(self, options: InferenceOptions) -> float:
        """How much the encoder's CTC head counts in the search; 0: attention alone."""
        if self.ctc is None:
            return 0.0
        if options.ctc_weight is None:
            return self.ctc.weight
        return float(options.ctc_weight)

    def _frame_log_probs(self, encoder_states):
        """(images, frames, vocab) log-probabilities of the encoder's CTC head, on the CPU
        whatever the device: a few hundred frames, scored a few at a time."""
        states = reading_order_states(self.model, encoder_states)
        weights = self.model.decoder.get_output_embeddings().weight
        return frame_log_probs(states, weights).cpu()

    def _prefix_scorer(self, log_probs, options: InferenceOptions, weight: float):
        """Joint CTC/attention decoding (model/ctc_prefix.py) over these images' frames."""
        from model.ctc_prefix import PrefixScorer

        return PrefixScorer(log_probs, options.num_beams, weight,
                            blank=self.model.config.pad_token_id,
                            eos=self.model.generation_config.eos_token_id,
                            first_symbol_id=self.ctc.first_symbol_id)

    def search(self, inputs, options: InferenceOptions, should_stop=None,
               logits_processor=None, n_best: int = 1):
        """``generate`` with ``options`` on prepared ``inputs`` (pixels, or the encoder's
        outputs), steered by ``logits_processor`` if given. The raw logits come back too,
        for confidences that no processor has touched."""
        return self.model.generate(
            **inputs,
            **options.generation_kwargs(),  # what --print-settings shows
            num_return_sequences=min(n_best, options.num_beams),
            stopping_criteria=_stop_criteria(should_stop),
            logits_processor=logits_processor,
            output_logits=True,
            return_dict_in_generate=True,
        )

    def readings(self, images: Sequence[Image.Image], options: InferenceOptions | None = None,
                 should_stop: ShouldStop | None = None) -> tuple[list[Reading], dict]:
        """What the search found for each image, before the self-check condenses it:
        the n-best list, the top reading's token log-probabilities, the CTC frames.
        Also the milliseconds per phase for the whole batch."""
        options = options or InferenceOptions()
        t0 = time.perf_counter()
        preprocess = prepares_snips(self.adapter, options)
        pixels = [prepare(im) if preprocess else im.convert("RGB") for im in images]
        inputs = self.adapter.inputs(self.processor, pixels, options.prompt)
        inputs = {k: v.to(self.model.device) for k, v in inputs.items()}
        if "pixel_values" in inputs:
            inputs["pixel_values"] = inputs["pixel_values"].to(self.model.dtype)
        t1 = time.perf_counter()
        output, frames = self._generate(inputs, options, should_stop)
        if should_stop and should_stop():
            raise CancelledError("cancelled")
        t2 = time.perf_counter()
        timings = {"preprocess": (t1 - t0) * 1e3, "generate": (t2 - t1) * 1e3}
        return self._readings(output, options, images, frames), timings

    def _readings(self, output, options, images, frames) -> list[Reading]:
        sequences = output.sequences
        per_image = sequences.shape[0] // len(images)
        token_log_probs = self._token_log_probs(output)
        texts = self.tokenizer.batch_decode(sequences, skip_special_tokens=True)
        scores = (output.sequences_scores.tolist()
                  if getattr(output, "sequences_scores", None) is not None
                  else [sum(row) / max(len(row), 1) for row in token_log_probs])
        special = set(self.tokenizer.all_special_ids)
        rows = sequences.tolist()
        echo = self.adapter.echo_prompt(options.prompt)
        cleaned = [clean_latex_report(text, echo) for text in texts]
        readings = []
        for index, image in enumerate(images):
            first = index * per_image
            span = range(first, first + per_image)
            candidates = [Candidate(cleaned[r].latex, float(scores[r]),
                                    tuple(t for t in rows[r] if t not in special))
                          for r in span]
            readings.append(Reading(
                image=image, raw_text=texts[first].strip(), cleaned=cleaned[first],
                candidates=candidates, token_log_probs=token_log_probs[first],
                frames=frames[index] if frames is not None else None))
        return readings

    def check(self, reading: Reading, with_round_trip: bool | None = None):
        """The self-check of one reading (model.selfcheck.check.Check) and its
        milliseconds per signal. The render round trip runs for every reading when the
        calibration reads it, else only for flagged ones, to say where they differ."""
        reads_layout = self.self_check is not None and any(
            name.startswith("rt_") for name in self.self_check.features)
        features, region, timings = signals_of(
            reading.candidates, reading.token_log_probs, reading.frames,
            blank=self.model.config.pad_token_id,
            first_symbol_id=self.ctc.first_symbol_id if self.ctc else 0,
            image=reading.image,
            with_round_trip=reads_layout if with_round_trip is None else with_round_trip)
        check = assess(features, region, self.self_check, reading.geometric_mean)
        if (check.needs_check and with_round_trip is None and not reads_layout
                and self.self_check is not None):
            more, region, spent = round_trip_signals(reading.image,
                                                     reading.candidates[0].latex)
            timings.update(spent)
            check = assess({**features, **more}, region, self.self_check,
                           reading.geometric_mean)
        return check, timings

    def _token_log_probs(self, output) -> list[list[float]]:
        """Per returned sequence, the decoder's log-probability of each chosen token,
        from its raw logits (before repetition penalties or CTC prefix scores)."""
        transition = self.model.compute_transition_scores(
            output.sequences, output.logits, getattr(output, "beam_indices", None),
            normalize_logits=True,
        )
        pad = self.tokenizer.pad_token_id
        return [
            [float(s) for s, t in zip(row, seq, strict=True)
             if int(t) != pad and math.isfinite(float(s))]
            for row, seq in zip(transition.tolist(), output.sequences[:, 1:].tolist(),
                                strict=True)
        ]


@dataclass
class Reading:
    """One image's search result: its n-best list, best first."""

    image: Image.Image  # as the caller gave it (the self-check's region refers to it)
    raw_text: str
    cleaned: object  # model.postprocess clean_latex_report of the top reading
    candidates: list[Candidate]
    token_log_probs: list[float]
    frames: object = None  # (frames, vocab) CTC log-probabilities, or None

    @property
    def geometric_mean(self) -> float:
        """The decoder's geometric-mean token probability of the top reading."""
        if not self.token_log_probs:
            return 0.0
        return round(math.exp(sum(self.token_log_probs) / len(self.token_log_probs)), 4)


@dataclass
class RowsReading:
    """A multi-line block read row by row: its environment, the image's height, each
    row's crop box (left, top, right, bottom) and reading, the milliseconds it took."""

    environment: str
    image_height: int
    boxes: list[tuple[int, int, int, int]]
    rows: list[Reading]
    ms: float

    def region_in_image(self, index: int, region: list[float] | None) -> list[float] | None:
        """A row's check region (0..1 of the row crop) as 0..1 of the whole image."""
        if region is None:
            return None
        _left, top, _right, bottom = self.boxes[index]
        height = max(self.image_height, 1)
        x0, y0, x1, y1 = region
        return [x0, (top + y0 * (bottom - top)) / height, x1,
                (top + y1 * (bottom - top)) / height]
