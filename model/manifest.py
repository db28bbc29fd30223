"""A model folder's manifest, ``snaptex.json``: its fields, defaults, validation, read/write.

Every tool that writes the file (training's run folder and export, vocabulary pruning,
vision resizing) and the loader that reads it go through this module, so the schema has
one home. Sections and who reads them:

* ``cpu``: how the model runs fastest on a CPU (:class:`CpuHints`, :mod:`model.cpu_exec`);
* ``input``: how training images were prepared (:func:`model.adapters.adapter_for`);
* ``ctc_decoding``: the encoder's CTC head joins the search (:mod:`model.ctc_head`);
* ``prune_vocab``, ``vision_resized_from``, ``vision_image_size``: reports of the
  checkpoint tools in ``training/models/``.

A missing file means defaults. An unreadable one is logged and means defaults too: a
model folder must still load when its hints are broken. Unknown top-level keys are kept
(``extra``) and named in a warning, because they are typos or keys no reader uses.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from model.ctc_head import HINT_KEY as CTC_HINT_KEY
from model.selfcheck import HINT_KEY as SELF_CHECK_HINT_KEY

logger = logging.getLogger(__name__)

HINTS_FILE = "snaptex.json"
DTYPES = ("auto", "bfloat16", "float32")
QUANTIZE = ("none", "int8-decoder")
# "default": whatever transformers picks (SDPA where it can); else the decoder's attention.
DECODER_ATTENTION = ("default", "eager", "sdpa")
INPUT_KEY = "input"
# Top-level keys that other modules read from ``SnaptexHints.extra``: the adapters'
# pre-processing, model/ctc_head.py's hint and model/selfcheck's calibration.
# Anything else is warned about.
EXTRA_KEYS = frozenset({INPUT_KEY, CTC_HINT_KEY, SELF_CHECK_HINT_KEY})


@dataclass
class CpuHints:
    """How the model was measured fastest on CPU (``"auto"`` = decide at load time)."""

    dtype: str = "auto"
    static_cache: bool = False
    compile: bool = False
    # "int8-decoder": dynamic int8 weights for the decoder's Linear layers (fp32 model).
    quantize: str = "none"
    # One of DECODER_ATTENTION: a tiny decoder's one-token steps can run faster without
    # SDPA's kernel dispatch (model/cpu_exec.py says what was measured).
    decoder_attention: str = "default"


@dataclass
class SnaptexHints:
    """Schema of ``snaptex.json`` in a model folder. Unknown keys are kept in ``extra``.

    ``prune_vocab``: report of ``training/models/prune_vocab.py`` (kept tokens, coverage...).
    ``vision_resized_from``: original SigLIP image size if
    ``training/models/resize_vision.py`` changed it (the model then needs a fine-tune at
    the new size).
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
        return hints_from_dict(data)
    except (OSError, ValueError, TypeError) as exc:
        logger.warning("ignoring unreadable %s: %s", path, exc)
        return SnaptexHints()


def hints_from_dict(data: dict[str, Any]) -> SnaptexHints:
    """Parsed JSON -> :class:`SnaptexHints`; ``ValueError`` names the bad field."""
    cpu = data.get("cpu") or {}
    if not isinstance(cpu, dict):
        raise ValueError("'cpu' must be an object")
    dtype = str(cpu.get("dtype", "auto"))
    if dtype not in DTYPES:
        raise ValueError(f"cpu.dtype must be one of {DTYPES}, not {dtype!r}")
    quantize = checked_quantize(str(cpu.get("quantize", "none")))
    attention = str(cpu.get("decoder_attention", "default"))
    if attention not in DECODER_ATTENTION:
        raise ValueError(f"cpu.decoder_attention must be one of {DECODER_ATTENTION}, "
                         f"not {attention!r}")
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
            decoder_attention=attention,
        ),
        extra={k: v for k, v in data.items() if k not in known},
    )


def checked_quantize(value: str) -> str:
    if value not in QUANTIZE:
        raise ValueError(f"quantize must be one of {QUANTIZE}, not {value!r}")
    return value


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
