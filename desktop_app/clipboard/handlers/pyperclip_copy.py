"""Write text with pyperclip (OS clipboard tools), outside Qt."""

from __future__ import annotations

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
    if importlib.util.find_spec("pyperclip") is None:
        return False
    import pyperclip

    return bool(pyperclip.is_available())


def copy(text: str) -> None:
    import pyperclip

    pyperclip.copy(text)
