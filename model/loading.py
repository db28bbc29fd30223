"""Load any image-to-LaTeX checkpoint (local folder or hub id) through the Auto classes.

Rules: safetensors only (a pickle checkpoint is refused, never unpickled), no
``trust_remote_code``, local folders never touch the network, and every failure is a
:class:`ModelLoadError` with a one-line message a user can act on.
"""

from __future__ import annotations

import logging
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path

from model import cpu_exec, manifest
from model.adapters import adapter_for
from model.ctc_head import HINT_KEY, CtcDecoding
from model.device import place
from model.errors import ModelLoadError
from model.recognizer import Recognizer

# torch and transformers are imported inside the functions that use them: they take
# seconds, and the worker reports `loading` and `snaptex ocr --help` answers before that.
logger = logging.getLogger(__name__)

BUNDLED_DIR = Path(__file__).resolve().parent / "bundled"
MODEL_ENV = "SNAPTEX_MODEL"
PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".ckpt", ".pkl")
HUB_ID_RE = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")


@dataclass(frozen=True)
class ModelInfo:
    name: str
    path: str
    model_type: str
    device: str
    dtype: str
    load_s: float
    parameters: int


def add_model_arguments(parser) -> None:
    """The ``--model/--device/--dtype/--threads`` flags every model command shares."""
    parser.add_argument(
        "--model", help="model folder or hub id (default: the bundled model)"
    )
    parser.add_argument(
        "--device", default="auto", help="auto (default), cpu, cuda, cuda:N or mps"
    )
    parser.add_argument(
        "--dtype", default="auto", help="auto (default), float32, bfloat16, float16"
    )
    parser.add_argument(
        "--threads", type=int, default=None, help="CPU threads (default: physical cores)"
    )


def resolve_model(model: str | Path | None) -> Path | str:
    """A local folder (Path) or a hub id (str). ``None``: $SNAPTEX_MODEL, then bundled."""
    if model is None or str(model) == "":
        model = os.environ.get(MODEL_ENV) or BUNDLED_DIR
        if Path(model) == BUNDLED_DIR and not (BUNDLED_DIR / "config.json").is_file():
            raise ModelLoadError(
                "the bundled model is missing from this installation; pass --model DIR"
            )
    path = Path(model).expanduser()
    if path.exists():
        if not path.is_dir():
            raise ModelLoadError(f"model path is a file, not a folder: {path}")
        return path.resolve()
    if HUB_ID_RE.match(str(model)) and not str(model).startswith((".", "~")):
        return str(model)
    raise ModelLoadError(f"model folder not found: {path}")


def check_folder(folder: Path) -> None:
    """Refuse folders that are not Hugging Face safetensors checkpoints."""
    if not (folder / "config.json").is_file():
        raise ModelLoadError(f"not a model folder (no config.json): {folder}")
    names = [p.name for p in folder.iterdir()]
    if not any(n.endswith(".safetensors") for n in names):
        pickles = [n for n in names if n.endswith(PICKLE_SUFFIXES)]
        if pickles:
            raise ModelLoadError(
                f"refusing to load pickle weights ({pickles[0]}): pickles can run code; "
                "convert the checkpoint to safetensors"
            )
        raise ModelLoadError(f"no safetensors weights in {folder}")


def download(model_id: str) -> Path:
    """Fetch a hub checkpoint (safetensors + processor files only) or explain offline."""
    try:
        from huggingface_hub import snapshot_download

        return Path(
            snapshot_download(
                model_id,
                allow_patterns=["*.json", "*.safetensors", "*.model", "*.txt", "*.md"],
            )
        )
    except Exception as exc:  # the hub client raises many types; all mean "not here"
        raise ModelLoadError(
            f"{model_id!r} is not a local folder and could not be downloaded "
            f"({type(exc).__name__}); offline? download it on a connected machine "
            f"(hf download {model_id} --local-dir DIR) and pass --model DIR"
        ) from None


def load_parts(folder: Path, device: str, dtype: str, input_hints: dict | None = None):
    """Model and processor from ``folder``, on ``device`` in ``dtype``."""
    import torch
    import transformers
    from transformers import AutoConfig, AutoProcessor
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # progress bars are noise in a worker's log
    try:
        config = AutoConfig.from_pretrained(folder, local_files_only=True)
        adapter = adapter_for(config.model_type, input_hints)
        processor = AutoProcessor.from_pretrained(folder, local_files_only=True)
        auto_class = getattr(transformers, adapter.auto_class)
        model = auto_class.from_pretrained(
            folder,
            local_files_only=True,
            use_safetensors=True,
            dtype=getattr(torch, dtype),
        )
    except ModelLoadError:
        raise
    except Exception as exc:  # corrupt JSON, truncated safetensors, unknown classes
        raise ModelLoadError(
            f"could not load the model in {folder}: {_one_line(exc)}"
        ) from None
    adapter.check(model, processor)
    model.to(device).eval()
    return model, processor, adapter


def ctc_decoding_of(hints) -> CtcDecoding | None:
    """The folder's CTC decoding hint (model/ctc_head.py), checked."""
    try:
        return CtcDecoding.from_hint(hints.extra.get(HINT_KEY))
    except (TypeError, ValueError) as exc:
        raise ModelLoadError(str(exc)) from None


def self_check_of(hints):
    """The folder's fitted self-check calibration (model/selfcheck), or None."""
    from model.selfcheck import HINT_KEY as SELF_CHECK_KEY
    from model.selfcheck.calibrate import Calibration

    data = hints.extra.get(SELF_CHECK_KEY)
    if data is None:
        return None
    try:
        return Calibration.from_dict(data)
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelLoadError(f"snaptex.json: {SELF_CHECK_KEY}: {exc}") from None


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}"[:300]


def load_recognizer(
    model: str | Path | None = None,
    device: str = "auto",
    dtype: str = "auto",
    threads: int | None = None,
):
    """Resolve, verify, place and load: the single entry for every checkpoint."""
    started = time.perf_counter()
    source = resolve_model(model)
    folder = source if isinstance(source, Path) else download(source)
    check_folder(folder)
    hints = manifest.read_hints(folder)
    try:
        placement = place(device, dtype, hints.cpu.dtype, threads)
    except ValueError as exc:
        raise ModelLoadError(str(exc)) from None
    ctc = ctc_decoding_of(hints)
    net, processor, adapter = load_parts(
        folder, placement.device, placement.dtype, hints.extra.get("input")
    )
    if ctc and adapter.name != "vision-encoder-decoder":
        raise ModelLoadError(f"snaptex.json: {HINT_KEY} needs a vision-encoder-decoder "
                             f"trained with a CTC encoder loss, not {adapter.name}")
    if placement.device == "cpu":
        net = cpu_exec.optimize_for_cpu(net, dtype=placement.dtype, hints=hints)
    from model.float32_logits import use_float32_logits

    use_float32_logits(net)  # beam and CTC scores need float32 logits (see the module)
    info = ModelInfo(
        name=folder.name if isinstance(source, Path) else str(source),
        path=str(folder),
        model_type=net.config.model_type,
        device=placement.device,
        dtype=placement.dtype,
        load_s=round(time.perf_counter() - started, 3),
        parameters=sum(p.numel() for p in net.parameters()),
    )
    logger.info("loaded %s", info)
    return Recognizer(net, processor, adapter, info, ctc, self_check_of(hints))
