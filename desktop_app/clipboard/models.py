"""Clipboard handler family: ranking of the writers."""

from __future__ import annotations

import enum


class ClipboardError(RuntimeError):
    """Nothing could write the clipboard; the message is shown to the user."""


class ClipboardMethod(enum.Enum):
    """Order = preference. Values name the module under clipboard/handlers/."""

    # pyperclip shells out to wl-copy/xclip/xsel or uses the OS API: the text
    # survives our process and Wayland needs no focused surface for wl-copy.
    PYPERCLIP = "pyperclip_copy"
    # Qt's clipboard: always present; on Wayland it needs our popup to have focus,
    # which it has when the result arrives.
    QT = "qt"
