"""Run a T5Gemma-2 (or any HF seq2seq model) fast on a CPU.

What matters on a laptop CPU, measured with ``python -m bench.t5gemma2_shapes``:

* bf16 runs SigLIP 2-4x faster than fp32 on CPUs with AMX or AVX512-BF16 (oneDNN uses
  them) and halves memory; without those flags bf16 is emulated and slower than fp32. So
  the dtype is chosen from the CPU flags in ``/proc/cpuinfo``. (Single-token decoder
  matmuls are memory-bound: bf16 and fp32 decode at about the same speed.)
* Threads: one per *idle* physical core (see :func:`choose_threads`): hyper-threads and
  cores busy with other processes make every op wait at OpenMP barriers.
* Static KV cache and ``torch.compile`` are opt-in via the folder's ``snaptex.json``.
  Measured for the pruned 270M decoder on 2 cores: a static cache without compile is
  ~2x *slower* per token than the dynamic cache; compile (static cache, inductor) took
  ~8 minutes on the first generate, hit dynamo's recompile limit (one recompile per
  step) and then decoded only ~10-20% faster. Both stay off by default.
* Decoder attention: the bundled model's folder asks for eager attention
  (``cpu.decoder_attention``). On 100 length-matched PDF snips, 2 idle cores, OpenMP's
  default wait policy, interleaved per image: p50 0.18 s against 0.21 s with SDPA, mean
  0.22 s against 0.25 s; 92 of the 100 readings were identical (bf16 rounding differs).
  Under ``OMP_WAIT_POLICY=PASSIVE`` the order flipped (0.56 s against 0.47 s): eager runs
  more, smaller ops, and each woke a sleeping thread.
* HF ``generate`` already runs the encoder once per image and expands its output across
  beams for encoder-decoder models (checked by tests/speed), so nothing to do there.

The folder's ``snaptex.json`` (:mod:`model.manifest`) carries the measured choices; this
module applies them.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from model.manifest import DTYPES, SnaptexHints, checked_quantize, read_hints

# torch and transformers are imported inside the functions that use them: they take
# seconds, and the worker reports `loading` and `snaptex ocr --help` answers before that.
logger = logging.getLogger(__name__)

# Any one means bf16 matmuls run natively (AMX tiles or AVX512-BF16 dot products).
BF16_FLAGS = frozenset({"amx_bf16", "avx512_bf16"})


# ----------------------------------------------------------------------------- CPU


def cpu_flags(cpuinfo: str | None = None) -> frozenset[str]:
    """The feature flags of the first CPU in ``/proc/cpuinfo`` (empty if unreadable)."""
    if cpuinfo is None:
        try:
            cpuinfo = Path("/proc/cpuinfo").read_text(
                encoding="utf-8", errors="replace"
            )
        except OSError:
            return (
                frozenset()
            )  # not Linux: no flags, so fp32 (always correct, maybe slower)
    for line in cpuinfo.splitlines():
        key, _, value = line.partition(":")
        if key.strip() in ("flags", "Features"):
            return frozenset(value.split())
    return frozenset()


def cpu_supports_bf16(flags: frozenset[str] | None = None) -> bool:
    """True when bf16 matmuls are native (AMX-BF16 or AVX512-BF16)."""
    flags = cpu_flags() if flags is None else flags
    return bool(BF16_FLAGS & flags)


def choose_dtype(
    requested: str = "auto", hinted: str = "auto", bf16_native: bool | None = None
) -> str:
    """The dtype name to run in: an explicit request wins, then the folder's hint,
    then bf16 only where the CPU runs it natively (emulated bf16 is slower)."""
    for choice in (requested, hinted):
        if choice not in DTYPES:
            raise ValueError(f"dtype must be one of {DTYPES}, not {choice!r}")
        if choice != "auto":
            return choice
    native = cpu_supports_bf16() if bf16_native is None else bf16_native
    return "bfloat16" if native else "float32"


def physical_cores(cpuinfo: str | None = None) -> int:
    """Physical cores (hyper-threads share one core's matmul units); at least 1."""
    if cpuinfo is None:
        try:
            cpuinfo = Path("/proc/cpuinfo").read_text(
                encoding="utf-8", errors="replace"
            )
        except OSError:
            cpuinfo = ""
    cores = set()
    physical_id = core_id = None
    for line in cpuinfo.splitlines():
        key, _, value = (part.strip() for part in line.partition(":"))
        if key == "physical id":
            physical_id = value
        elif key == "core id":
            core_id = value
        elif not key and physical_id is not None and core_id is not None:
            cores.add((physical_id, core_id))
            physical_id = core_id = None
    if physical_id is not None and core_id is not None:
        cores.add((physical_id, core_id))
    available = (
        len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    )
    count = len(cores) or available or os.cpu_count() or 1
    return max(1, min(count, available or count))


def choose_threads(
    requested: int | None = None, *, cores: int | None = None, load: float | None = None
) -> int:
    """Intra-op threads: an explicit request wins, else the physical cores that other
    processes leave idle (at least 1).

    Why not simply all cores: each op ends at an OpenMP barrier, and when another busy
    process has taken one of the cores the barrier waits a scheduler slice for the
    descheduled thread. On this 2-core machine under load, 1 thread ran the T5Gemma-2
    decoder ~6x and SigLIP ~2.5x faster than 2 threads (bench/t5gemma2_shapes.py).
    """
    if requested:  # None or 0: automatic
        if int(requested) < 1:
            raise ValueError("threads must be >= 1")
        return int(requested)
    cores = physical_cores() if cores is None else cores
    load = _load_average() if load is None else load
    others = max(0.0, load - 1.0)  # the 1-minute load includes this (loading) process
    return max(1, min(cores, cores - int(others + 0.5)))


def _load_average() -> float:
    try:
        return os.getloadavg()[0]
    except (AttributeError, OSError):
        return 0.0  # Windows: no load average, use every physical core


def configure_threads(threads: int | None = None) -> int:
    """Set torch's intra-op threads (see :func:`choose_threads`); returns the count."""
    import torch

    count = choose_threads(threads)
    torch.set_num_threads(count)
    logger.info("torch threads: %d (%d physical cores)", count, physical_cores())
    return count


# ----------------------------------------------------------------------------- model


def optimize_for_cpu(
    model,
    *,
    dtype: str = "auto",
    compile: bool | None = None,
    static_cache: bool | None = None,
    quantize: str | None = None,
    hints: SnaptexHints | None = None,
):
    """Prepare ``model`` for CPU inference in place and return it.

    ``dtype``: "auto" (hint, then CPU flags), "bfloat16", "float32", "float16" or a
    torch dtype.
    ``compile``/``static_cache``/``quantize``: None = follow the hints (default off: see
    the module docstring for the measurements).
    """
    import torch

    hints = hints or _hints_of(model)
    name = _dtype_name(dtype)
    # fp16 is legal if asked for explicitly (slow on most CPUs); hints never choose it.
    chosen = name if name == "float16" else choose_dtype(name, hints.cpu.dtype)
    quantize = checked_quantize(hints.cpu.quantize if quantize is None else quantize)
    # Dynamic int8 kernels take fp32 activations, so the model runs in fp32 around them;
    # only the vision encoder (compute-bound, where AMX bf16 is 3x faster, and sharing no
    # weights with the text side) stays in bf16.
    bf16_vision = quantize == "int8-decoder" and chosen == "bfloat16"
    if bf16_vision:
        chosen = "float32"
    model.eval()
    model.requires_grad_(False)
    if model.dtype != getattr(torch, chosen):
        model.to(getattr(torch, chosen))
    if quantize == "int8-decoder":
        quantize_decoder(model)
        if bf16_vision:
            run_in_bfloat16(vision_encoder(model))
    if hints.cpu.decoder_attention != "default":
        model.get_decoder().set_attn_implementation(hints.cpu.decoder_attention)
    use_static = hints.cpu.static_cache if static_cache is None else static_cache
    use_compile = hints.cpu.compile if compile is None else compile
    generation = getattr(model, "generation_config", None)
    if generation is not None and (use_static or use_compile):
        # A static cache has fixed shapes: what lets torch.compile avoid recompiling.
        generation.cache_implementation = "static"
    elif generation is not None and generation.cache_implementation == "static":
        generation.cache_implementation = None
    if generation is not None and use_compile:
        generation.compile_config = _cpu_compile_config()
    logger.info(
        "CPU execution: %s, static cache %s, compile %s, quantize %s, decoder attention %s",
        chosen,
        use_static or use_compile,
        use_compile,
        quantize,
        hints.cpu.decoder_attention,
    )
    return model


def quantize_decoder(model) -> int:
    """Swap the decoder's Linear layers (and the LM head) for dynamic-int8 ones, in place.

    Why only the decoder: generation re-reads all decoder weights once per token, so it is
    memory-bound and int8 weights (4x smaller than fp32) pay off; the encoder runs once per
    image and is compute-bound, where bf16 on AMX is the faster choice. Returns the number
    of layers swapped.
    """
    import warnings

    import torch
    from torch.ao.quantization import quantize_dynamic

    decoder = model.get_decoder()
    inside = {id(m) for m in decoder.modules()}
    head = model.get_output_embeddings()
    names = {
        name
        for name, module in model.named_modules()
        if isinstance(module, torch.nn.Linear) and (id(module) in inside or module is head)
    }
    with warnings.catch_warnings():  # torch.ao.quantization's deprecation notices
        warnings.simplefilter("ignore")
        quantize_dynamic(model, qconfig_spec=names, dtype=torch.qint8, inplace=True)
    logger.info("int8 decoder: %d Linear layers quantised", len(names))
    return len(names)


def vision_encoder(model):
    """The image encoder: T5Gemma-2's SigLIP tower, or a vision-encoder-decoder's encoder."""
    encoder = model.get_encoder()
    return getattr(encoder, "vision_tower", encoder)


def run_in_bfloat16(module) -> None:
    """Run ``module`` in bf16 inside an fp32 model: cast its inputs in, its outputs back."""
    import torch

    def to(dtype, value):
        floating = torch.is_tensor(value) and value.is_floating_point()
        return value.to(dtype) if floating else value

    def inputs_in(_module, args, kwargs):
        return (tuple(to(torch.bfloat16, a) for a in args),
                {k: to(torch.bfloat16, v) for k, v in kwargs.items()})

    def outputs_out(_module, _args, output):
        for key, value in output.items():
            output[key] = to(torch.float32, value)
        return output

    module.to(torch.bfloat16)
    module.register_forward_pre_hook(inputs_in, with_kwargs=True)
    module.register_forward_hook(outputs_out)
    logger.info("%s runs in bfloat16 inside the float32 model", type(module).__name__)


def _dtype_name(dtype: Any) -> str:
    text = str(dtype).removeprefix("torch.")
    return {"bf16": "bfloat16", "fp32": "float32", "float": "float32"}.get(text, text)


def _hints_of(model) -> SnaptexHints:
    folder = getattr(getattr(model, "config", None), "_name_or_path", "") or ""
    return read_hints(folder) if folder and Path(folder).is_dir() else SnaptexHints()


def _cpu_compile_config():
    from transformers import CompileConfig

    config = CompileConfig(fullgraph=False, dynamic=False, mode="default")
    # generate() only auto-compiles on accelerators unless told otherwise.
    config._compile_all_devices = True
    return config
