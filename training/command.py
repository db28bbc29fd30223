"""What every ``training`` command line shares: logging set-up and a guarded ``main``.

A command's expected failures (a bad recipe, a missing folder, the ``[train]`` extra not
installed) print one line and exit 2; Ctrl-C exits 130 with a hint instead of a traceback.
Anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable

USAGE_ERROR, INTERRUPTED = 2, 130
# What ``pip install 'snaptex[train]'`` adds (pyproject.toml); the app, the worker and
# ``snaptex ocr`` run without it.
TRAIN_EXTRA = ("datasets", "pyarrow", "accelerate", "nltk", "rapidfuzz")
INSTALL_TRAIN = "pip install 'snaptex[train]'"


def missing_extra(exc: ImportError) -> str | None:
    """The one line to print when ``exc`` means the ``[train]`` extra is not installed
    (a training package is missing, or transformers' Trainer asks for accelerate)."""
    name = (exc.name or "").split(".")[0]
    wanted = name if name in TRAIN_EXTRA else next(
        (package for package in TRAIN_EXTRA if package in str(exc)), None)
    if wanted is None:
        return None
    return f"this command needs {wanted}, part of the training extra: {INSTALL_TRAIN}"


def setup_logging(verbose: bool = False) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


def guarded(prog: str, action: Callable[[], int], errors: tuple[type[BaseException], ...],
            *, on_interrupt: str = "interrupted") -> int:
    """Run ``action``; report ``errors`` and Ctrl-C as ``prog: ...`` on stderr."""
    try:
        return action()
    except errors as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return USAGE_ERROR
    except ImportError as exc:
        message = missing_extra(exc)
        if message is None:
            raise
        print(f"{prog}: error: {message}", file=sys.stderr)
        return USAGE_ERROR
    except KeyboardInterrupt:
        print(f"{prog}: {on_interrupt}", file=sys.stderr)
        return INTERRUPTED
