"""Run a T5Gemma-2 (or any HF seq2seq model) fast on a CPU.

What matters on a laptop CPU, measured with ``python -m model.shape_bench``:

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
* HF ``generate`` already runs the encoder once per image and expands its output across
  beams for encoder-decoder models (checked by tests/speed), so nothing to do there.

The model folder may hold ``snaptex.json`` written by the training tools
(``training/prune_vocab.py``, ``training/resize_vision.py``); :class:`SnaptexHints` is
its schema and :func:`read_hints` reads it.
"""

from __future__ import annotations

import json
import logging
import math
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from model.ctc_head import HINT_KEY as CTC_HINT_KEY
from model.selfcheck import HINT_KEY as SELF_CHECK_HINT_KEY

logger = logging.getLogger(__name__)

HINTS_FILE = "snaptex.json"
# Any one means bf16 matmuls run natively (AMX tiles or AVX512-BF16 dot products).
BF16_FLAGS = frozenset({"amx_bf16", "avx512_bf16"})
DTYPES = ("auto", "bfloat16", "float32")
QUANTIZE = ("none", "int8-decoder")
# Top-level keys that other modules read from ``SnaptexHints.extra``: "input" (the
# adapters' pre-processing), model/ctc_head.py's hint and model/selfcheck's calibration. Anything else is a typo or a
# key from an older SnapTeX, and is ignored with a warning.
EXTRA_KEYS = frozenset({"input", CTC_HINT_KEY, SELF_CHECK_HINT_KEY})


# ----------------------------------------------------------------------------- hints


@dataclass
class CpuHints:
    """How the model was measured fastest on CPU (``"auto"`` = decide at load time)."""

    dtype: str = "auto"
    static_cache: bool = False
    compile: bool = False
    # "int8-decoder": dynamic int8 weights for the decoder's Linear layers (fp32 model).
    quantize: str = "none"


@dataclass
class SnaptexHints:
    """Schema of ``snaptex.json`` in a model folder. Unknown keys are kept in ``extra``.

    ``prune_vocab``: report of ``training/prune_vocab.py`` (kept tokens, coverage...).
    ``vision_resized_from``: original SigLIP image size if ``training/resize_vision.py``
    changed it (the model then needs a fine-tune at the new size).
    """

    prune_vocab: dict[str, Any] | None = None
    vision_resized_from: int | None = None
    vision_image_size: int | None = None
    cpu: CpuHints = field(default_factory=CpuHints)
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        extra = data.pop("extra")
        return {**extra, **{k: v for k, v in data.items() if v is not None}}


def read_hints(folder: str | Path) -> SnaptexHints:
    """The folder's ``snaptex.json``, or defaults when absent or unreadable (logged)."""
    path = Path(folder) / HINTS_FILE
    if not path.is_file():
        return SnaptexHints()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict):
            raise ValueError("not a JSON object")
        return _hints_from_dict(data)
    except (OSError, ValueError, TypeError) as exc:
        logger.warning("ignoring unreadable %s: %s", path, exc)
        return SnaptexHints()


def _hints_from_dict(data: dict[str, Any]) -> SnaptexHints:
    cpu = data.get("cpu") or {}
    if not isinstance(cpu, dict):
        raise ValueError("'cpu' must be an object")
    dtype = str(cpu.get("dtype", "auto"))
    if dtype not in DTYPES:
        raise ValueError(f"cpu.dtype must be one of {DTYPES}, not {dtype!r}")
    quantize = checked_quantize(str(cpu.get("quantize", "none")))
    known = {"prune_vocab", "vision_resized_from", "vision_image_size", "cpu"}
    _warn_unknown(set(data) - known - EXTRA_KEYS)
    return SnaptexHints(
        prune_vocab=data.get("prune_vocab"),
        vision_resized_from=_optional_int(data.get("vision_resized_from")),
        vision_image_size=_optional_int(data.get("vision_image_size")),
        cpu=CpuHints(
            dtype=dtype,
            static_cache=bool(cpu.get("static_cache", False)),
            compile=bool(cpu.get("compile", False)),
            quantize=quantize,
        ),
        extra={k: v for k, v in data.items() if k not in known},
    )


def _warn_unknown(keys: set[str]) -> None:
    if keys:
        logger.warning(
            "snaptex.json: ignoring unknown key(s) %s (an older SnapTeX's model folder? "
            "re-export it, or remove them)", ", ".join(sorted(keys))
        )


def _optional_int(value: Any) -> int | None:
    return None if value is None else int(value)


def update_hints(folder: str | Path, **changes: Any) -> SnaptexHints:
    """Merge ``changes`` (top-level fields) into the folder's ``snaptex.json``."""
    hints = read_hints(folder)
    for key, value in changes.items():
        if key == "cpu" and isinstance(value, dict):
            value = CpuHints(**{**asdict(hints.cpu), **value})
        if hasattr(hints, key) and key != "extra":
            setattr(hints, key, value)
        else:
            hints.extra[key] = value
    path = Path(folder) / HINTS_FILE
    path.write_text(json.dumps(hints.to_dict(), indent=2) + "\n", encoding="utf-8")
    return hints


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
    decoder ~6x and SigLIP ~2.5x faster than 2 threads (model/shape_bench.py).
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
        "CPU execution: %s, static cache %s, compile %s, quantize %s",
        chosen,
        use_static or use_compile,
        use_compile,
        quantize,
    )
    return model


def checked_quantize(value: str) -> str:
    if value not in QUANTIZE:
        raise ValueError(f"quantize must be one of {QUANTIZE}, not {value!r}")
    return value


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


def pooled_tokens(image_size: int, patch_size: int, mm_tokens: int) -> int:
    """``mm_tokens_per_image`` for SigLIP at ``image_size``: the projector average-pools
    the patch grid by an integer kernel, so the token grid side must divide the patch
    grid side.
    Keeps ``mm_tokens`` when possible (same text-encoder length as trained), else the
    largest square grid that pools evenly."""
    if image_size % patch_size:
        raise ValueError(
            f"image size {image_size} is not a multiple of patch {patch_size}"
        )
    patches = image_size // patch_size
    side = math.isqrt(mm_tokens) if mm_tokens > 0 else 0
    if side * side != mm_tokens or side < 1:
        raise ValueError(f"mm_tokens_per_image {mm_tokens} is not a square")
    best = max(d for d in range(1, min(side, patches) + 1) if patches % d == 0)
    return best * best
