"""The ``snaptex`` command: one entry point, subcommands dispatched lazily.

Each subcommand lives with the package that owns it and parses its own arguments, so
``snaptex ocr`` never imports Qt and ``snaptex`` (the app) never imports torch.
"""

from __future__ import annotations

import importlib
import sys

# name -> (module:function taking argv, one-line help). Order is the order in --help.
SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "app": ("desktop_app.app:main", "run the tray app (the default)"),
    "snip": (
        "desktop_app.app:snip_main",
        "ask the running app to snip a region (bind this to a shortcut)",
    ),
    "ocr": ("model.ocr:main", "print LaTeX for image files (or - for stdin)"),
    "worker": ("model.worker:main", "run the inference worker on stdin/stdout"),
    "train": ("training.trainer.train:main", "train or fine-tune a model from a recipe"),
    "eval": ("training.evaluate.evaluator:main", "evaluate one or two models on a data set"),
    "render": ("training.render.cli:main", "render LaTeX formulas to training images"),
    "bench": ("bench.worker_latency:main", "measure latency, cold start and memory"),
}

USAGE = """usage: snaptex [SUBCOMMAND] [ARGS...]

Snip an equation, get clean LaTeX on the clipboard, offline.

subcommands:
{table}

With no subcommand, runs the tray app (`snaptex --capture` snips at once).
`snaptex SUBCOMMAND --help` describes each one. Every command spells a setting the
same way: --model, --device, --dtype, --threads, --format, --beams, --max-new-tokens,
--seed-settings (the T5Gemma-2 tutorial's decoding).

the app (snaptex [app] [OPTIONS]):

{app_options}
exit status (every command):
{exit_codes}
"""


def usage() -> str:
    from model.exit_codes import EXIT_CODES

    width = max(map(len, SUBCOMMANDS))
    table = "\n".join(
        f"  {name:<{width}}  {help_}" for name, (_, help_) in SUBCOMMANDS.items()
    )
    codes = "\n".join(f"  {code:<4} {meaning}" for code, meaning in EXIT_CODES)
    return USAGE.format(table=table, app_options=app_options(), exit_codes=codes)


def app_options() -> str:
    """The app's own flags and settings flags, from the parser the app uses."""
    import argparse

    from desktop_app.app import build_parser  # QtCore for the settings table, no widgets

    parser = build_parser()
    parser.usage, parser.description = argparse.SUPPRESS, None
    return parser.format_help()


def _resolve(target: str):
    module_name, func_name = target.split(":")
    return getattr(importlib.import_module(module_name), func_name)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in ("-h", "--help", "help"):
        print(usage())
        return 0
    if argv and argv[0] in ("-V", "--version"):
        from desktop_app import __version__

        print(f"snaptex {__version__}")
        return 0
    name = argv.pop(0) if argv and argv[0] in SUBCOMMANDS else "app"
    return int(_resolve(SUBCOMMANDS[name][0])(argv) or 0)


if __name__ == "__main__":
    sys.exit(main())
