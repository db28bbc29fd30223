"""One configuration of the T5Gemma-2 shape benchmark, measured in its own process.

The configurations (vocabulary x dtype x image size x threads x cache/compile/int8), how
a random model of each is built, and the timing of one greedy ``generate`` through the
real processor. :mod:`bench.t5gemma2_shapes` runs each in a child interpreter (``--child
NAME``) so the peak RSS belongs to that configuration alone; torch is imported inside the
functions so that the parent stays small.
"""

from __future__ import annotations

import dataclasses
import logging
import statistics
import time
from dataclasses import dataclass
from typing import Any

from model.images import formula_image

logger = logging.getLogger(__name__)

STOCK_VOCAB = 262_144
REFERENCE = "stock-fp32-896"
SIZES = (896, 448, 224)  # px at the 270M scale; the tiny shape scales them down
SHORT = {"float32": "fp32", "bfloat16": "bf16"}
SAMPLE_FORMULAS = [
    r"\frac{a}{b}+\sqrt{x^{2}+y^{2}}=\int_{0}^{1}f(t)\,dt",
    r"\sum_{n=1}^{\infty}\frac{1}{n^{2}}=\frac{\pi^{2}}{6}",
    r"e^{i\pi}+1=0",
    r"\mathbf{A}\mathbf{x}=\lambda\mathbf{x}",
] * 8


@dataclass(frozen=True)
class BenchConfig:
    vocab: str  # "stock" (262,144) or "pruned" (--pruned-vocab)
    dtype: str  # "float32" | "bfloat16"
    image: int  # SigLIP image size at the 270M scale
    threads: str = "torch"  # torch's default (all cores) or "auto" (cpu_exec's choice)
    cache: str = "dynamic"  # or "static"
    compile: bool = False
    quantize: str = "none"  # or "int8-decoder" (fp32 model, int8 decoder weights)

    @property
    def name(self) -> str:
        dtype = SHORT[self.dtype]
        if self.quantize == "int8-decoder":  # int8 decoder; the vision tower in dtype
            dtype = "int8" if self.dtype == "float32" else "int8bf16"
        name = f"{self.vocab}-{dtype}-{self.image}"
        name += "-auto" if self.threads == "auto" else ""
        if self.compile:
            return name + "-compile"
        return name + ("-static" if self.cache == "static" else "")


def all_configs() -> dict[str, BenchConfig]:
    configs = [
        BenchConfig(v, d, s, t)
        for v in ("stock", "pruned")
        for d in ("float32", "bfloat16")
        for s in SIZES
        for t in ("torch", "auto")
    ]
    configs += [
        BenchConfig("pruned", d, 224, "auto", cache="static", compile=c)
        for d in ("float32", "bfloat16")
        for c in (False, True)
    ]
    configs += [
        BenchConfig(v, d, s, "auto", quantize="int8-decoder")
        for v in ("stock", "pruned")
        for d in ("float32", "bfloat16")
        for s in SIZES
    ]
    return {c.name: c for c in configs}


DEFAULT_CONFIGS = [
    "stock-fp32-896",  # the reference: stock shape, fp32, torch's default threads
    "stock-bf16-896",
    "stock-fp32-896-auto",  # threads alone
    "pruned-bf16-224",  # pruning + size + bf16, torch's default threads
    "pruned-fp32-896-auto",
    "pruned-bf16-896-auto",
    "pruned-fp32-448-auto",
    "pruned-bf16-448-auto",
    "pruned-fp32-224-auto",
    "pruned-bf16-224-auto",
    "pruned-bf16-224-auto-static",
    "pruned-int8-448-auto",
    "pruned-int8-224-auto",
    "pruned-int8bf16-448-auto",
    "pruned-int8bf16-224-auto",
]


# ----------------------------------------------------------------------------- child


def build_model(shape_name: str, config: BenchConfig, vocab: int, tokenizer):
    """A random model of the shape at the config's size/vocab, built in its dtype."""
    import torch
    from transformers import AutoModelForSeq2SeqLM

    from training.models.resize_vision import pooled_tokens
    from training.models.t5gemma2 import BOI, EOI, SHAPES, t5gemma2_config

    shape = SHAPES[shape_name]
    image = scaled_image_size(shape, config.image)
    shape = dataclasses.replace(
        shape,
        vision_image=image,
        mm_tokens=pooled_tokens(image, shape.vision_patch, shape.mm_tokens),
    )
    # The tokenizer's own special ids sit below any vocab size; ids above it only matter
    # for the embedding / LM-head sizes, which is what is being timed.
    model_config = t5gemma2_config(
        shape,
        vocab,
        tokenizer.image_token_id,
        tokenizer.convert_tokens_to_ids(BOI),
        tokenizer.convert_tokens_to_ids(EOI),
    )
    torch.manual_seed(0)
    model = AutoModelForSeq2SeqLM.from_config(
        model_config, dtype=getattr(torch, config.dtype)
    )
    return model, shape


def scaled_image_size(shape, px: int) -> int:
    """``px`` at the 270M scale (896 native) mapped to ``shape``'s native size."""
    size = shape.vision_image * px // 896
    return max(shape.vision_patch, size - size % shape.vision_patch)


class EncoderCounter:
    """Times and counts a module's forward calls with hooks (also inside generate)."""

    def __init__(self, module):
        self.calls, self.seconds, self._start = 0, 0.0, 0.0
        module.register_forward_pre_hook(self._before)
        module.register_forward_hook(self._after)

    def _before(self, *_):
        self._start = time.perf_counter()

    def _after(self, *_):
        self.calls += 1
        self.seconds += time.perf_counter() - self._start

    def reset(self):
        self.calls, self.seconds = 0, 0.0


def time_one_generate(
    model, processor, counters, tokens: int, beams: int
) -> dict[str, float]:
    """One end-to-end recognition: processor, generate ``tokens`` tokens, decode."""
    import torch

    from model.options import SEED_PROMPT

    for counter in counters.values():
        counter.reset()
    start = time.perf_counter()
    inputs = processor(text=SEED_PROMPT, images=formula_image(), return_tensors="pt")
    inputs["pixel_values"] = inputs["pixel_values"].to(model.dtype)
    prepared = time.perf_counter()
    with torch.inference_mode():
        out = model.generate(
            **inputs,
            max_new_tokens=tokens,
            min_new_tokens=tokens,
            do_sample=False,
            num_beams=beams,
        )
    generated = time.perf_counter()
    processor.batch_decode(out, skip_special_tokens=True)
    end = time.perf_counter()
    new_tokens = int(out.shape[1]) - 1  # minus the decoder start token
    encoder = counters["encoder"].seconds
    return {
        "preprocess_s": prepared - start,
        "encoder_s": encoder,
        "vision_s": counters["vision"].seconds,
        "decoder_per_token_s": (generated - prepared - encoder) / max(1, new_tokens),
        "generate_s": generated - prepared,
        "e2e_s": end - start,
        "new_tokens": new_tokens,
        "encoder_calls": counters["encoder"].calls,
        "vision_calls": counters["vision"].calls,
    }


def run_child(args, config: BenchConfig) -> dict[str, Any]:
    """Build one configuration and time it; runs in its own process (see module doc)."""
    import resource

    from model.cpu_exec import optimize_for_cpu
    from training.models.t5gemma2 import build_processor, train_latex_tokenizer

    threads = child_threads(args, config)
    vocab = STOCK_VOCAB if config.vocab == "stock" else args.pruned_vocab
    tokenizer = train_latex_tokenizer(SAMPLE_FORMULAS, vocab_size=400)
    start = time.perf_counter()
    model, shape = build_model(args.shape, config, vocab, tokenizer)
    build_s = time.perf_counter() - start
    params = sum(p.numel() for p in model.parameters())  # before int8 packs them away
    optimize_for_cpu(
        model,
        dtype=config.dtype,
        compile=config.compile,
        static_cache=config.cache == "static",
        quantize=config.quantize,
    )
    model.generation_config.update(
        bos_token_id=2, eos_token_id=1, pad_token_id=0, decoder_start_token_id=2
    )
    processor = build_processor(tokenizer, shape.vision_image, shape.mm_tokens)
    encoder = model.get_encoder()
    counters = {
        "encoder": EncoderCounter(encoder),
        "vision": EncoderCounter(encoder.vision_tower),
    }
    runs = measure(
        lambda: time_one_generate(model, processor, counters, args.tokens, args.beams),
        args,
    )
    return {
        "config": config.name,
        **dataclasses.asdict(config),
        "vocab_size": vocab,
        "image_size": shape.vision_image,
        "mm_tokens": shape.mm_tokens,
        "params": params,
        "threads": threads,
        "build_s": build_s,
        "runs": runs,
        "median": medians(runs),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def child_threads(args, config: BenchConfig) -> int:
    """--threads, else cpu_exec's choice for "auto" configs, else torch's default."""
    import torch

    from model.cpu_exec import configure_threads

    if args.threads or config.threads == "auto":
        return configure_threads(args.threads)
    return torch.get_num_threads()  # what a stock script runs with


def measure(run_once, args) -> list[dict[str, float]]:
    """Repeat ``run_once``; a fast first run is a warm-up, a slow one is kept."""
    first = run_once()
    logger.info("first run: %.1f s end to end", first["e2e_s"])
    if first["e2e_s"] > args.slow_seconds:
        runs = [first]
        while len(runs) < args.slow_repeats:
            runs.append(run_once())
        return runs
    return [run_once() for _ in range(args.repeats)]


def medians(runs: list[dict[str, float]]) -> dict[str, float]:
    return {key: statistics.median(run[key] for run in runs) for key in runs[0]}
