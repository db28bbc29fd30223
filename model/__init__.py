"""SnapTeX model core: loading, pre-processing, generation, LaTeX clean-up, worker.

Import-light on purpose: ``model.protocol`` and ``model.options`` are used by the desktop
app, which must never pull in torch, so heavy names are only resolved on first use::

    from model import load_recognizer, InferenceOptions
    latex = load_recognizer().recognize(image, InferenceOptions()).latex
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "load_recognizer": "model.loading",
    "Recognizer": "model.recognizer",
    "InferenceOptions": "model.options",
    "Prediction": "model.options",
    "clean_latex": "model.postprocess",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'model' has no attribute {name!r}")


__all__ = sorted(_LAZY)
