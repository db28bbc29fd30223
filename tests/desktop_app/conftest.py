"""Fixtures for the desktop app tests: isolated settings, fake worker commands."""

from __future__ import annotations

from pathlib import Path

import pytest
from fakes import FAKE_WORKER
from PySide6.QtCore import QSettings

from desktop_app import platform_info
from desktop_app.settings import Settings

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def clear_platform_caches():
    platform_info.clear_caches()
    yield
    platform_info.clear_caches()


@pytest.fixture
def settings(tmp_path, qapp) -> Settings:
    """Settings in an INI file under tmp_path (never the user's real settings)."""
    return Settings(
        QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    )


@pytest.fixture
def fake_worker():
    """argv for the fake worker plus scripted flags: fake_worker("--delay", "1")."""

    def make(*flags: str) -> list[str]:
        return [*FAKE_WORKER, *flags]

    return make
