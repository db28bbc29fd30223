"""``Recognizer.recognize(image, options) -> Prediction``: the one inference API."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Sequence

from PIL import Image

from model.adapters import prepares_snips
from model.ctc_head import frame_log_probs, reading_order_states
from model.errors import CancelledError
from model.options import InferenceOptions, Prediction
from model.postprocess import clean_latex_report
from model.preprocess import prepare

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

    def __init__(self, model, processor, adapter, info, ctc=None) -> None:
        self.model = model
        self.processor = processor
        self.adapter = adapter
        self.info = info
        self.tokenizer = processor.tokenizer
        self.ctc = ctc  # model.ctc_head.CtcDecoding, or None

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
        t0 = time.perf_counter()
        preprocess = prepares_snips(self.adapter, options)
        pixels = [prepare(im) if preprocess else im.convert("RGB") for im in images]
        inputs = self.adapter.inputs(self.processor, pixels, options.prompt)
        inputs = {k: v.to(self.model.device) for k, v in inputs.items()}
        if "pixel_values" in inputs:
            inputs["pixel_values"] = inputs["pixel_values"].to(self.model.dtype)
        t1 = time.perf_counter()
        output = self._generate(inputs, options, should_stop)
        if should_stop and should_stop():
            raise CancelledError("cancelled")
        t2 = time.perf_counter()
        timings = {"preprocess": (t1 - t0) * 1e3, "generate": (t2 - t1) * 1e3}
        return self._predictions(output, options, timings, len(images))

    def _generate(self, inputs, options: InferenceOptions, should_stop):
        import torch

        from model.ctc_prefix import logits_processor

        weight = self.ctc_weight(options)
        with torch.inference_mode():
            if not weight:
                return self.search(inputs, options, should_stop)
            # The encoder runs once, here: its states feed both the search and CTC. The
            # scorer reads them first, as generate expands them per beam in place.
            encoder_outputs = self.model.get_encoder()(pixel_values=inputs["pixel_values"])
            scorer = self._prefix_scorer(encoder_outputs.last_hidden_state, options, weight)
            return self.search({"encoder_outputs": encoder_outputs}, options, should_stop,
                               logits_processor=logits_processor(scorer))

    def ctc_weight(self, options: InferenceOptions) -> float:
        """How much the encoder's CTC head counts in the search; 0: attention alone."""
        if self.ctc is None:
            return 0.0
        if options.ctc_weight is None:
            return self.ctc.weight
        return float(options.ctc_weight)

    def _prefix_scorer(self, encoder_states, options: InferenceOptions, weight: float):
        """Joint CTC/attention decoding (model/ctc_prefix.py) over these images' frames."""
        from model.ctc_prefix import PrefixScorer

        states = reading_order_states(self.model, encoder_states)
        # On the CPU whatever the device: a few hundred frames, scored a few at a time.
        log_probs = frame_log_probs(states, self.model.decoder.get_output_embeddings().weight)
        return PrefixScorer(log_probs.cpu(), options.num_beams, weight,
                            blank=self.model.config.pad_token_id,
                            eos=self.model.generation_config.eos_token_id,
                            first_symbol_id=self.ctc.first_symbol_id)

    def search(self, inputs, options: InferenceOptions, should_stop=None,
               logits_processor=None):
        """``generate`` with ``options`` on prepared ``inputs`` (pixels, or the encoder's
        outputs), steered by ``logits_processor`` if given. The raw logits come back too,
        for confidences that no processor has touched."""
        return self.model.generate(
            **inputs,
            **options.generation_kwargs(),  # what --print-settings shows
            stopping_criteria=_stop_criteria(should_stop),
            logits_processor=logits_processor,
            output_logits=True,
            return_dict_in_generate=True,
        )

    def _predictions(self, output, options, timings, count) -> list[Prediction]:
        sequences = output.sequences
        confidences = self._confidences(output, count)
        texts = self.tokenizer.batch_decode(sequences, skip_special_tokens=True)
        special = set(self.tokenizer.all_special_ids)
        per_image = {k: round(v / count, 2) for k, v in timings.items()}
        predictions = []
        for text, row, confidence in zip(texts, sequences.tolist(), confidences, strict=True):
            cleaned = clean_latex_report(text, self.adapter.echo_prompt(options.prompt))
            predictions.append(
                Prediction(
                    latex=cleaned.latex,
                    latex_raw=text.strip(),
                    confidence=confidence,
                    n_tokens=sum(1 for t in row if t not in special),
                    timings_ms=dict(per_image),
                    warnings=cleaned.warnings,
                )
            )
        return predictions

    def _confidences(self, output, count: int) -> list[float]:
        """The decoder's geometric-mean probability of the chosen tokens, in [0, 1],
        from its raw logits (before repetition penalties or CTC prefix scores)."""
        transition = self.model.compute_transition_scores(
            output.sequences, output.logits, getattr(output, "beam_indices", None),
            normalize_logits=True,
        )
        pad = self.tokenizer.pad_token_id
        results = []
        for row, seq in zip(transition, output.sequences[:, 1:], strict=True):
            keep = [
                float(s)
                for s, t in zip(row, seq, strict=True)
                if int(t) != pad and math.isfinite(float(s))
            ]
            mean = sum(keep) / len(keep) if keep else float("-inf")
            results.append(round(math.exp(mean), 4) if keep else 0.0)
        return results[:count]
