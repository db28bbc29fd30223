"""The settings dialog, generated from the SETTINGS table (one widget per setting)."""

from __future__ import annotations

import logging
from typing import Any

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from desktop_app.settings import SETTINGS, Setting, Settings
from desktop_app.ui import icons

logger = logging.getLogger(__name__)


class PathField(QWidget):
    def __init__(self, value: str):
        super().__init__()
        self.edit = QLineEdit(value)
        self.edit.setPlaceholderText("bundled model")
        browse = QPushButton("Browse…", clicked=self._browse)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.edit)
        layout.addWidget(browse)

    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(
            self, "Model folder", self.edit.text()
        )
        if folder:
            self.edit.setText(folder)

    def value(self) -> str:
        return self.edit.text().strip()


def make_field(setting: Setting, value: Any) -> QWidget:
    if setting.is_path:
        return PathField(str(value))
    if setting.type is bool:
        box = QCheckBox()
        box.setChecked(bool(value))
        return box
    if setting.choices:
        combo = QComboBox()
        labels = setting.choice_labels or setting.choices
        for label, choice in zip(labels, setting.choices, strict=True):
            combo.addItem(label, choice)
        combo.setCurrentIndex(max(0, combo.findData(value)))
        return combo
    if setting.type is int:
        spin = QSpinBox()
        spin.setRange(setting.minimum, setting.maximum or 1_000_000)
        spin.setValue(int(value))
        return spin
    return QLineEdit(str(value))


def field_value(widget: QWidget) -> Any:
    if isinstance(widget, PathField):
        return widget.value()
    if isinstance(widget, QCheckBox):
        return widget.isChecked()
    if isinstance(widget, QComboBox):
        return widget.currentData()
    if isinstance(widget, QSpinBox):
        return widget.value()
    return widget.text()


class SettingsDialog(QDialog):
    def __init__(self, settings: Settings, parent: QWidget | None = None):
        super().__init__(parent)
        self.settings = settings
        self.setWindowTitle("SnapTeX settings")
        self.setWindowIcon(icons.icon())
        self.fields: dict[str, QWidget] = {}
        form = QFormLayout()
        for setting in SETTINGS:
            widget = make_field(setting, settings.get(setting.key))
            widget.setToolTip(setting.help)
            self.fields[setting.key] = widget
            form.addRow(setting.label, widget)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(buttons)

    def accept(self) -> None:
        for key, widget in self.fields.items():
            self.settings.set(key, field_value(widget))
        super().accept()
