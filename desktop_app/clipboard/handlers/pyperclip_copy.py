"""Write text with pyperclip (OS clipboard tools), outside Qt."""

from __future__ import annotations

import functools
import importlib.util

from desktop_app import platform_info

install_instructions = (
    "pip install pyperclip (and wl-clipboard, xclip or xsel on Linux)"
)


def is_compatible() -> bool:
    # The offscreen platform has an in-process clipboard: writing the desktop's
    # clipboard from a headless run would put text somewhere no one reads.
    return not platform_info.is_headless()


def is_installed() -> bool:
    return _backend_found()


@functools.cache
def _backend_found() -> bool:
    """Whether pyperclip finds an OS clipboard tool (wl-copy, xclip, xsel, pbcopy,
    the Windows API). ``pyperclip.is_available()`` is False until the first copy,
    so ask ``determine_clipboard()``: its copy function is falsy when none exists."""
    if importlib.util.find_spec("pyperclip") is None:
        return False
    import pyperclip

    copy_function, _paste = pyperclip.determine_clipboard()
    return bool(copy_function)


def copy(text: str) -> None:
    import pyperclip

    pyperclip.copy(text)
