"""The decoding flags every recognising command shares, and the settings they add up to.

``snaptex ocr`` and ``snaptex eval`` both call :func:`add_decoding_arguments` and
:func:`options_from_args`, so a tutorial-style evaluation takes exactly the flags of a
tutorial-style recognition. :func:`effective_settings` is what ``--print-settings``
shows: the generation keywords under ``transformers.GenerationConfig``'s names plus the
pre-processing the model folder's ``snaptex.json`` asks for, read without loading any
weights (standard library and PIL only: no torch, no transformers).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from model.options import DEFAULT_BEAMS, InferenceOptions


def add_decoding_arguments(parser: argparse.ArgumentParser,
                           max_new_tokens: int | None = None) -> None:
    """``--seed-settings``, ``--beams``, ``--max-new-tokens``, the penalties, CTC and
    ``--preprocess/--no-preprocess``. Every flag defaults to "not given": explicit flags
    apply on top of ``--seed-settings`` or the defaults."""
    tokens = max_new_tokens or InferenceOptions.max_new_tokens
    group = parser.add_argument_group("decoding")
    add = group.add_argument
    add("--seed-settings", action="store_true",
        help="the tutorial's decoding: max_new_tokens=100, num_beams=3, "
        "repetition_penalty=1.2, no_repeat_ngram_size=4, early_stopping=True, "
        "no sampling (flags given as well still apply)")
    add("--beams", type=int, default=None, metavar="N",
        help=f"beam width (default {DEFAULT_BEAMS}; 1 is greedy, fastest)")
    add("--num-beams", dest="beams", type=int, help=argparse.SUPPRESS)  # old spelling
    add("--max-new-tokens", type=int, default=None, metavar="N",
        help=f"longest output in tokens (default {tokens})")
    add("--repetition-penalty", type=float, default=None, metavar="F",
        help="> 1 discourages repeating tokens (default 1.0: off)")
    add("--no-repeat-ngram-size", type=int, default=None, metavar="N",
        help="never repeat an n-gram of this size (default 0: off)")
    add("--length-penalty", type=float, default=None, metavar="F",
        help="beam search's length exponent: > 1 favours longer outputs (default 1.0)")
    add("--ctc-weight", type=float, default=None, metavar="F",
        help="weight of the encoder's CTC head in the search (0: off; default: what "
        "the model folder's snaptex.json says)")
    add("--preprocess", action=argparse.BooleanOptionalAction, default=None,
        help="flatten/invert/crop/upscale snips first (default: what the model "
        "folder's snaptex.json says, on when it says nothing)")
    parser.set_defaults(default_max_new_tokens=tokens)


# Flag dest -> InferenceOptions field.
FLAG_FIELDS = {
    "beams": "num_beams",
    "max_new_tokens": "max_new_tokens",
    "repetition_penalty": "repetition_penalty",
    "no_repeat_ngram_size": "no_repeat_ngram_size",
    "length_penalty": "length_penalty",
    "ctc_weight": "ctc_weight",
    "preprocess": "preprocess",
}


def options_from_args(args: argparse.Namespace) -> InferenceOptions:
    """The options the flags ask for; raises ValueError on an out-of-range value."""
    if args.seed_settings:
        values = InferenceOptions.seed().to_dict()
    else:
        values = {**InferenceOptions().to_dict(),
                  "max_new_tokens": args.default_max_new_tokens}
    for dest, name in FLAG_FIELDS.items():
        if getattr(args, dest, None) is not None:
            values[name] = getattr(args, dest)
    return InferenceOptions.from_dict(values)


def effective_settings(model: str | None, options: InferenceOptions) -> dict[str, Any]:
    """What a recognition with ``options`` on ``model`` would use, from the folder's
    ``config.json`` and ``snaptex.json`` alone. Raises ModelLoadError like loading."""
    from model.adapters import adapter_for, prepares_snips
    from model.loading import ctc_decoding_of
    from model.manifest import HINTS_FILE, read_hints

    folder = local_folder(model)
    hints = read_hints(folder)
    model_type = _model_type(folder)
    adapter = adapter_for(model_type, hints.extra.get("input"))
    ctc = ctc_decoding_of(hints)
    # As Recognizer.ctc_weight: a folder without a CTC head decodes by attention alone.
    ctc_weight = 0.0 if ctc is None else (
        ctc.weight if options.ctc_weight is None else float(options.ctc_weight))
    manifest = folder / HINTS_FILE
    return {
        "model": str(folder),
        "model_type": model_type,
        "manifest": str(manifest) if manifest.is_file() else None,
        **options.generation_kwargs(),
        "ctc_weight": ctc_weight,
        "prompt": adapter.echo_prompt(options.prompt),
        "preprocess": prepares_snips(adapter, options),
        "letterbox": adapter.letterbox,
        "anchor": adapter.anchor,
        "split_rows": adapter.split_rows,
    }


def local_folder(model: str | None) -> Path:
    """The model's folder on this machine: a local folder, or a hub id already in the
    download cache (nothing is downloaded)."""
    from model.errors import ModelLoadError
    from model.loading import resolve_model

    source = resolve_model(model)
    if isinstance(source, Path):
        return source
    try:
        from huggingface_hub import snapshot_download

        return Path(snapshot_download(source, local_files_only=True))
    except Exception:  # the hub client raises many types; all mean "not cached"
        raise ModelLoadError(
            f"{source!r} is not downloaded; --print-settings reads a local folder "
            f"(hf download {source} --local-dir DIR, then --model DIR)") from None


def _model_type(folder: Path) -> str:
    from model.errors import ModelLoadError

    try:
        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
        return str(config["model_type"])
    except (OSError, ValueError, TypeError, KeyError):
        raise ModelLoadError(f"not a model folder (no readable config.json with a "
                             f"model_type): {folder}") from None
