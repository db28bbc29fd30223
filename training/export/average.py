"""Checkpoint averaging: one model whose weights are the mean of several checkpoints.

Checkpoints saved while the learning rate is still high scatter around one minimum, and
their mean usually scores better than the last of them, at no cost at inference: what a run
stopped mid-schedule should ship. At the end of an annealed cosine the last checkpoint
is as good (measured in README, ADR-004). The output is a normal
checkpoint folder (the newest input's config, processor and tokenizer files, averaged
``model.safetensors``) that ``snaptex eval`` and ``training.export.bundled`` take as is.

    python -m training.export.average runs/bundled/checkpoint-13600 ... --out runs/bundled/avg
"""

from __future__ import annotations

import argparse
import json
import logging
import shutil
import sys
from pathlib import Path

from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from training.command import guarded, setup_logging
from training.recipe import RecipeError

logger = logging.getLogger(__name__)
WEIGHTS = "model.safetensors"
PROVENANCE = "averaged.json"  # which checkpoints went in; the model card names them
# Optimiser and RNG state describe one point of the run, not the average.
SKIPPED = {WEIGHTS, "optimizer.pt", "scheduler.pt", "training_args.bin"}


def average_state_dicts(state_dicts: list[dict]) -> dict:
    """Key-wise mean of floating-point tensors; other tensors (counters, ids) are taken
    from the last state dict. All must have the same keys and shapes."""
    if not state_dicts:
        raise RecipeError("nothing to average: no checkpoints given")
    keys = state_dicts[-1].keys()
    for index, state in enumerate(state_dicts):
        if state.keys() != keys:
            raise RecipeError(f"checkpoint {index + 1} has different weights than the last")
    averaged = {}
    for key in keys:
        tensors = [state[key] for state in state_dicts]
        if any(t.shape != tensors[-1].shape for t in tensors):
            raise RecipeError(f"{key}: shapes differ between checkpoints")
        if not tensors[-1].is_floating_point():
            averaged[key] = tensors[-1].clone()
            continue
        # Sum in float32 so bf16/fp16 weights do not lose precision on the way.
        total = sum(t.float() for t in tensors)
        averaged[key] = (total / len(tensors)).to(tensors[-1].dtype).contiguous()
    return averaged


def average_checkpoints(folders: list[Path], out: Path) -> Path:
    """Write the average of ``folders`` (in training order) to ``out``."""

    missing = [str(f) for f in folders if not (f / WEIGHTS).is_file()]
    if missing:
        raise RecipeError(f"no {WEIGHTS} in: {', '.join(missing)}")
    if out.resolve() in {f.resolve() for f in folders}:
        raise RecipeError("--out must not be one of the checkpoints")
    averaged = average_state_dicts([_load(f / WEIGHTS) for f in folders])
    out.mkdir(parents=True, exist_ok=True)
    for item in folders[-1].iterdir():
        if item.is_file() and item.name not in SKIPPED and not item.name.startswith("rng_"):
            shutil.copy2(item, out / item.name)
    save_file(averaged, out / WEIGHTS, metadata={"format": "pt"})
    provenance = {"checkpoints": [f.name for f in folders]}
    (out / PROVENANCE).write_text(json.dumps(provenance, indent=2) + "\n", encoding="utf-8")
    logger.info("averaged %d checkpoints -> %s", len(folders), out)
    return out


def _load(path: Path) -> dict:
    try:
        return load_file(path)
    except SafetensorError as exc:
        raise RecipeError(f"{path} is not a readable safetensors file: {exc}") from None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m training.export.average",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("checkpoints", nargs="+", type=Path,
                        help="checkpoint folders, oldest first (the newest gives the config)")
    parser.add_argument("--out", type=Path, required=True, help="folder to write")
    args = parser.parse_args(argv)
    setup_logging()
    return guarded("average", lambda: run(args), (RecipeError, OSError))


def run(args: argparse.Namespace) -> int:
    out = average_checkpoints(args.checkpoints, args.out)
    print(f"averaged {len(args.checkpoints)} checkpoints -> {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
