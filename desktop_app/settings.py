"""One declarative SETTINGS table feeding defaults, QSettings persistence, CLI flags
and the settings dialog (normcap's pattern, with snake_case keys throughout)."""

from __future__ import annotations

import argparse
import logging
import os
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject, QSettings, Signal

from desktop_app import APP_ID, __version__
from model.delimiters import CLI_NAMES, LABELS, Style
from model.options import DEFAULT_BEAMS

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Setting:
    key: str
    type: type
    default: Any
    label: str
    help: str
    choices: tuple[str, ...] = ()
    choice_labels: tuple[str, ...] = ()  # shown in the dialog instead of the values
    minimum: int = 0
    maximum: int = 0
    is_path: bool = False
    cli: bool = True
    # The flag's name where it differs from the key: every command spells one setting
    # the same way (``--model``, ``--format``, ``--beams``), while stored keys stay put.
    cli_name: str = ""
    old_flags: tuple[str, ...] = ()  # earlier spellings, still accepted, not shown
    # Extra words the flag accepts for a stored value (``--format inline`` = dollar).
    cli_values: tuple[tuple[str, str], ...] = ()

    def parse_flag(self, text: str) -> Any:
        """A flag's text as the setting's type (argparse checks the choices after)."""
        return self.type(dict(self.cli_values).get(text, text))

    @property
    def flag(self) -> str:
        return "--" + (self.cli_name or self.key).replace("_", "-")

    @property
    def metavar(self) -> str:
        return (self.cli_name or self.key).upper()


def _default_threads() -> int:
    # Leave a core for the UI and the rest of the desktop.
    return max(1, (os.cpu_count() or 2) - 1)


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "model_dir",
        str,
        "",
        "Model folder",
        "Folder with a saved model; empty uses the bundled model.",
        is_path=True,
        cli_name="model",
        old_flags=("--model-dir",),
    ),
    Setting(
        "device",
        str,
        "auto",
        "Device",
        "Where the model runs.",
        choices=("auto", "cpu", "cuda", "mps"),
    ),
    Setting(
        "output_format",
        str,
        Style.RAW.value,
        "Output format",
        "Delimiters around the LaTeX copied to the clipboard.",
        choices=tuple(s.value for s in Style),
        choice_labels=tuple(LABELS[s] for s in Style),
        cli_name="format",
        old_flags=("--output-format",),
        cli_values=tuple((name, style.value) for name, style in CLI_NAMES.items()),
    ),
    Setting(
        "num_beams",
        int,
        DEFAULT_BEAMS,
        "Beams",
        "Beam search width: 1 is fastest; more beams are a little more accurate.",
        minimum=1,
        maximum=16,
        cli_name="beams",
        old_flags=("--num-beams",),
    ),
    Setting(
        "max_new_tokens",
        int,
        512,
        "Max tokens",
        "Longest LaTeX the model may produce, in tokens.",
        minimum=16,
        maximum=2048,
    ),
    Setting(
        "seed_settings",
        bool,
        False,
        "Tutorial decoding",
        "Decode as the T5Gemma-2 tutorial does (3 beams, at most 100 tokens, "
        "repetition penalty 1.2, no repeated 4-grams), in place of Beams and Max tokens.",
    ),
    Setting(
        "threads",
        int,
        _default_threads(),
        "CPU threads",
        "Threads the worker may use on CPU.",
        minimum=1,
        maximum=256,
    ),
    Setting(
        "request_timeout_s",
        int,
        180,
        "Timeout (s)",
        "A recognition taking longer restarts the worker.",
        minimum=5,
        maximum=3600,
    ),
    Setting(
        "capture_method",
        str,
        "auto",
        "Capture method",
        "Screen grabber: auto picks the first that works here.",
        choices=("auto", "qt", "portal", "mss"),
    ),
    Setting(
        "clipboard_method",
        str,
        "auto",
        "Clipboard method",
        "Clipboard writer: auto tries pyperclip, then Qt.",
        choices=("auto", "pyperclip", "qt"),
    ),
    Setting(
        "start_at_login",
        bool,
        False,
        "Start at login",
        "Start SnapTeX in the tray when you log in.",
    ),
    Setting(
        "history_size",
        int,
        500,
        "History size",
        "How many results the history keeps (0 keeps none).",
        minimum=0,
        maximum=100_000,
    ),
    Setting(
        "popup_close_s",
        int,
        20,
        "Popup closes after (s)",
        "Seconds until the result popup closes by itself, unless the pointer is on "
        "it or you are editing; 0 keeps it open.",
        minimum=0,
        maximum=3600,
    ),
)

BY_KEY: dict[str, Setting] = {s.key: s for s in SETTINGS}
SETTINGS_VERSION_KEY = "settings_version"


def coerce(setting: Setting, raw: Any) -> Any:
    """A stored or typed value as the setting's type; invalid values fall back to the
    default (a hand-edited INI file must never crash the app)."""
    try:
        if setting.type is bool:
            value = (
                raw
                if isinstance(raw, bool)
                else str(raw).lower() in ("1", "true", "yes", "on")
            )
        else:
            value = setting.type(raw)
    except (TypeError, ValueError):
        return setting.default
    if setting.choices and value not in setting.choices:
        return setting.default
    if setting.type is int and setting.maximum:
        value = max(setting.minimum, min(setting.maximum, value))
    return value


def add_cli_flags(parser: argparse.ArgumentParser) -> None:
    """One optional flag per setting; a flag overrides the stored value for this run."""
    group = parser.add_argument_group("settings (override the saved value for this run)")
    for s in SETTINGS:
        if not s.cli:
            continue
        for flag, help_ in ((s.flag, s.help), *((old, argparse.SUPPRESS)
                                                 for old in s.old_flags)):
            if s.type is bool:
                group.add_argument(flag, dest=s.key, action=argparse.BooleanOptionalAction,
                                   default=None, help=help_)
            else:
                group.add_argument(flag, dest=s.key, default=None, help=help_,
                                   type=s.parse_flag if s.cli_values else s.type,
                                   choices=s.choices or None,
                                   metavar=None if s.choices else s.metavar)


def cli_overrides(args: argparse.Namespace) -> dict[str, Any]:
    return {
        s.key: getattr(args, s.key)
        for s in SETTINGS
        if s.cli and getattr(args, s.key, None) is not None
    }


class Settings(QObject):
    """Typed access to the table, stored in QSettings; emits only on real changes."""

    value_changed = Signal(str, object)

    def __init__(
        self,
        store: QSettings | None = None,
        overrides: dict[str, Any] | None = None,
        parent: QObject | None = None,
    ):
        super().__init__(parent)
        self._store = store or QSettings(APP_ID, APP_ID)
        self._overrides = {
            k: coerce(BY_KEY[k], v) for k, v in (overrides or {}).items()
        }
        migrate(self._store)

    def get(self, key: str) -> Any:
        setting = BY_KEY[key]
        if key in self._overrides:
            return self._overrides[key]
        return coerce(setting, self._store.value(key, setting.default))

    def set(self, key: str, value: Any) -> None:
        setting = BY_KEY[key]
        value = coerce(setting, value)
        old = self.get(key)
        self._overrides.pop(key, None)  # an explicit choice beats a CLI flag
        self._store.setValue(key, value)
        self._store.sync()
        if value != old:
            logger.info("setting %s = %r", key, value)
            self.value_changed.emit(key, value)

    def state(self, key: str, default: Any = None) -> Any:
        """App state that is not a user setting (e.g. a hint already shown)."""
        return self._store.value(f"state/{key}", default)

    def set_state(self, key: str, value: Any) -> None:
        self._store.setValue(f"state/{key}", value)
        self._store.sync()

    def as_dict(self) -> dict[str, Any]:
        return {s.key: self.get(s.key) for s in SETTINGS}

    def file_name(self) -> str:
        return self._store.fileName()


def migrate(store: QSettings) -> None:
    """Bring a stored settings file up to this version (no renames yet: stamp only)."""
    stored = store.value(SETTINGS_VERSION_KEY, "")
    if stored != __version__:
        logger.debug("settings version %r -> %s", stored, __version__)
        store.setValue(SETTINGS_VERSION_KEY, __version__)
