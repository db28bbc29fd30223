"""What every ``training`` command line shares: logging set-up and a guarded ``main``.

A command's expected failures (a bad recipe, a missing folder) print one line and exit 2;
Ctrl-C exits 130 with a hint instead of a traceback. Anything else is a bug and keeps its
traceback.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable

USAGE_ERROR, INTERRUPTED = 2, 130


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
    except KeyboardInterrupt:
        print(f"{prog}: {on_interrupt}", file=sys.stderr)
        return INTERRUPTED
