"""The ``snaptex`` app entry points.

``main(argv)`` runs the tray app (``--capture`` snips at once, or asks the running
instance to); ``snip_main(argv)`` is ``snaptex snip``, the command to bind to a
shortcut. Both first try to hand their command to a running instance, importing only
QtCore/QtNetwork for that, so a shortcut press stays quick.
"""

from __future__ import annotations

import argparse
import sys

# Nothing from Qt at import time: qt_preflight must look at the system first.
from desktop_app import qt_preflight


def build_parser() -> argparse.ArgumentParser:
    from desktop_app.settings import add_cli_flags

    parser = argparse.ArgumentParser(
        prog="snaptex", description="SnapTeX tray app: snip an equation, get LaTeX."
    )
    parser.add_argument(
        "--capture",
        action="store_true",
        help="snip a region now (forwarded to the running app if any)",
    )
    parser.add_argument(
        "--from-clipboard",
        action="store_true",
        help="recognise the image on the clipboard now",
    )
    parser.add_argument(
        "--quit", action="store_true", help="ask the running app to quit"
    )
    parser.add_argument(
        "--log-level", default="INFO", choices=("DEBUG", "INFO", "WARNING", "ERROR")
    )
    # Support/testing hook: run this command instead of the model worker.
    parser.add_argument("--worker-command", help=argparse.SUPPRESS)
    add_cli_flags(parser)
    return parser


def _forward_command(args: argparse.Namespace) -> tuple[str, bool]:
    """The command this launch means, and whether a running instance took it."""
    from desktop_app.single_instance import send_command

    flags = (
        ("quit", args.quit),
        ("snip", args.capture),
        ("clipboard", args.from_clipboard),
    )
    command = next((name for name, wanted in flags if wanted), "show")
    return command, send_command(command)


def qt_problem() -> int | None:
    """Print why Qt cannot start here and return the exit status; None when it can.
    Without this, a missing system library fails the import of PySide6 or aborts the
    process inside Qt (exit 134) with a message that names the wrong library."""
    problem = qt_preflight.problem_here()
    if problem is None:
        return None
    print(f"snaptex: {problem.message}", file=sys.stderr)
    return problem.exit_code


def main(argv: list[str] | None = None) -> int:
    refused = qt_problem()
    if refused is not None:
        return refused
    return _app(sys.argv[1:] if argv is None else argv)


def _app(argv: list[str]) -> int:
    """The app once Qt is known to be able to start here."""
    args = build_parser().parse_args(argv)
    command, forwarded = _forward_command(args)
    if forwarded:
        return 0
    if command == "quit":
        print("SnapTeX is not running.", file=sys.stderr)
        return 1
    from desktop_app.composition import run  # widgets, preview, worker client

    return run(args, command)


def snip_main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="snaptex snip",
        description="Ask the running SnapTeX to snip a region; start it if it is not "
        "running. Bind this command to a keyboard shortcut.",
    )
    _, rest = parser.parse_known_args(sys.argv[1:] if argv is None else argv)
    refused = qt_problem()
    if refused is not None:
        return refused
    from desktop_app.single_instance import send_command

    if send_command("snip"):
        return 0
    return _app(["--capture", *rest])


if __name__ == "__main__":
    sys.exit(main())
