"""The SETTINGS table feeds defaults, persistence, CLI flags and the dialog."""

import argparse

import pytest
from PySide6.QtCore import QSettings

from desktop_app.settings import (
    BY_KEY,
    SETTINGS,
    SETTINGS_VERSION_KEY,
    Settings,
    add_cli_flags,
    cli_overrides,
    coerce,
)
from desktop_app.ui.settings_dialog import SettingsDialog, field_value
from model.options import DEFAULT_BEAMS

REQUIRED = {
    "model_dir",
    "device",
    "output_format",
    "num_beams",
    "start_at_login",
    "history_size",
}


@pytest.mark.parametrize("setting", [s for s in SETTINGS if s.choice_labels])
def test_choice_labels_match_choices(setting):
    assert len(setting.choice_labels) == len(setting.choices)


def test_keys_are_unique_snake_case_and_complete():
    keys = [s.key for s in SETTINGS]
    assert len(keys) == len(set(keys))
    assert all(k == k.lower() and "-" not in k for k in keys)
    assert keys[0] == "model_dir"
    assert set(keys) >= REQUIRED


@pytest.mark.parametrize("setting", SETTINGS, ids=lambda s: s.key)
def test_defaults_are_valid_values(setting):
    assert coerce(setting, setting.default) == setting.default
    assert isinstance(setting.default, setting.type)
    assert setting.label and setting.help


@pytest.mark.parametrize(
    ("key", "raw", "expected"),
    [
        ("num_beams", "4", 4),
        ("num_beams", "99", 16),  # clamped to the maximum
        ("num_beams", "zero", DEFAULT_BEAMS),  # unparsable -> default
        ("device", "cuda", "cuda"),
        ("device", "tpu", "auto"),  # not a choice -> default
        ("start_at_login", "true", True),
        ("start_at_login", "false", False),
        ("start_at_login", 0, False),
        ("history_size", "-3", 0),
    ],
)
def test_coerce(key, raw, expected):
    assert coerce(BY_KEY[key], raw) == expected


def test_defaults_persist_and_emit_only_on_change(tmp_path, qapp, qtbot):
    path = str(tmp_path / "s.ini")
    settings = Settings(QSettings(path, QSettings.Format.IniFormat))
    assert settings.as_dict() == {s.key: s.default for s in SETTINGS}
    with qtbot.waitSignal(settings.value_changed) as changed:
        settings.set("num_beams", 4)
    assert changed.args == ["num_beams", 4]
    with qtbot.assertNotEmitted(settings.value_changed):
        settings.set("num_beams", "4")
    reopened = Settings(QSettings(path, QSettings.Format.IniFormat))
    assert reopened.get("num_beams") == 4
    assert QSettings(path, QSettings.Format.IniFormat).value(SETTINGS_VERSION_KEY)


def test_cli_flags_override_without_persisting(tmp_path, qapp):
    parser = argparse.ArgumentParser()
    add_cli_flags(parser)
    args = parser.parse_args(
        ["--num-beams", "7", "--device", "cpu", "--start-at-login"]
    )
    overrides = cli_overrides(args)
    assert overrides == {"num_beams": 7, "device": "cpu", "start_at_login": True}
    path = str(tmp_path / "s.ini")
    settings = Settings(QSettings(path, QSettings.Format.IniFormat), overrides)
    assert settings.get("num_beams") == 7
    stored = Settings(QSettings(path, QSettings.Format.IniFormat))
    assert stored.get("num_beams") == DEFAULT_BEAMS != 7


def test_cli_rejects_values_outside_the_choices():
    parser = argparse.ArgumentParser()
    add_cli_flags(parser)
    with pytest.raises(SystemExit):
        parser.parse_args(["--device", "tpu"])


def test_dialog_has_one_field_per_setting_and_saves(settings, qtbot):
    dialog = SettingsDialog(settings)
    qtbot.addWidget(dialog)
    assert list(dialog.fields) == [s.key for s in SETTINGS]
    dialog.fields["num_beams"].setValue(5)
    formats = dialog.fields["output_format"]
    assert formats.currentText() == "raw"
    formats.setCurrentText(r"\[…\]")  # the user sees labels, the setting stores values
    dialog.fields["model_dir"].edit.setText("/models/mine")
    dialog.fields["start_at_login"].setChecked(False)
    dialog.accept()
    assert settings.get("num_beams") == 5
    assert settings.get("output_format") == "bracket"
    assert settings.get("model_dir") == "/models/mine"
    assert field_value(dialog.fields["device"]) == "auto"


@pytest.mark.parametrize(("argv", "expected"), [
    (["--model", "/m", "--format", "bracket", "--beams", "3"],
     {"model_dir": "/m", "output_format": "bracket", "num_beams": 3}),
    # The words snaptex ocr uses for the same styles.
    (["--format", "inline"], {"output_format": "dollar"}),
    (["--format", "display"], {"output_format": "bracket"}),
    # Old spellings still work.
    (["--model-dir", "/m", "--output-format", "paren", "--num-beams", "2"],
     {"model_dir": "/m", "output_format": "paren", "num_beams": 2}),
    (["--seed-settings", "--max-new-tokens", "64"],
     {"seed_settings": True, "max_new_tokens": 64}),
])
def test_flags_share_the_commands_vocabulary(argv, expected):
    parser = argparse.ArgumentParser()
    add_cli_flags(parser)
    assert cli_overrides(parser.parse_args(argv)) == expected


def test_help_shows_the_common_spellings_only():
    parser = argparse.ArgumentParser()
    add_cli_flags(parser)
    text = parser.format_help()
    for flag in ("--model MODEL", "--format", "--beams BEAMS", "--seed-settings"):
        assert flag in text
    for old in ("--model-dir", "--output-format", "--num-beams"):
        assert old not in text
