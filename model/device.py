"""The one place that decides device, dtype and threads (CUDA, Apple MPS or CPU)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from model import cpu_exec, manifest

# torch and transformers are imported inside the functions that use them: they take
# seconds, and the worker reports `loading` and `snaptex ocr --help` answers before that.
logger = logging.getLogger(__name__)

DEVICES = ("auto", "cpu", "cuda", "mps")
DTYPES = ("auto", "float32", "bfloat16", "float16")


@dataclass(frozen=True)
class Placement:
    device: str  # "cpu", "cuda", "cuda:1", "mps"
    dtype: str  # "float32", "bfloat16", "float16"


def pick_device(requested: str = "auto") -> str:
    """``auto`` prefers CUDA, then MPS, then CPU; an explicit choice must be available."""
    import torch

    kind = requested.split(":")[0]
    if kind not in DEVICES:
        raise ValueError(
            f"device must be one of {', '.join(DEVICES)} (got {requested!r})"
        )
    if kind == "cuda" and not torch.cuda.is_available():
        raise ValueError("device 'cuda' requested but no CUDA GPU is available")
    if kind == "mps" and not _mps_available():
        raise ValueError("device 'mps' requested but Apple MPS is not available")
    if kind != "auto":
        return requested
    if torch.cuda.is_available():
        return "cuda"
    return "mps" if _mps_available() else "cpu"


def _mps_available() -> bool:
    import torch

    backend = getattr(torch.backends, "mps", None)
    return bool(backend and backend.is_available())


def pick_dtype(device: str, requested: str = "auto", hinted: str = "auto") -> str:
    """bf16 where the hardware runs it natively, else fp32 (fp16 only on request)."""
    import torch

    if requested not in DTYPES:
        raise ValueError(
            f"dtype must be one of {', '.join(DTYPES)} (got {requested!r})"
        )
    if requested != "auto":
        return requested
    if device.startswith("cuda"):
        return "bfloat16" if torch.cuda.is_bf16_supported() else "float32"
    if device == "mps":
        return "float32"  # bf16 kernels on MPS are incomplete across macOS versions
    return cpu_exec.choose_dtype(
        "auto", hinted if hinted in manifest.DTYPES else "auto"
    )


def place(
    device: str = "auto",
    dtype: str = "auto",
    hinted_dtype: str = "auto",
    threads: int | None = None,
) -> Placement:
    """Resolve the user's choices into a concrete device and dtype; sets CPU threads."""
    chosen = pick_device(device)
    if chosen == "cpu" or threads:
        cpu_exec.configure_threads(threads)
    placement = Placement(chosen, pick_dtype(chosen, dtype, hinted_dtype))
    logger.info("placement: %s", placement)
    return placement
