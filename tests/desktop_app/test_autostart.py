"""Start at login writes and removes the platform's login item."""

import plistlib
from pathlib import Path

from desktop_app import autostart, platform_info


def test_xdg_autostart_entry(tmp_path, monkeypatch, qapp):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    monkeypatch.setattr(platform_info, "os_name", lambda: "linux")
    autostart.set_enabled(True, ["/opt/snap tex/bin/snaptex"])
    entry = tmp_path / "autostart" / "snaptex.desktop"
    assert "Exec='/opt/snap tex/bin/snaptex'" in entry.read_text()
    autostart.set_enabled(False)
    assert not entry.exists()


def test_macos_launch_agent(tmp_path, monkeypatch):
    monkeypatch.setattr(platform_info, "os_name", lambda: "macos")
    monkeypatch.setattr(Path, "home", lambda: tmp_path)
    autostart.set_enabled(True, ["/usr/local/bin/snaptex"])
    agent = plistlib.loads(autostart.mac_agent_path().read_bytes())
    assert agent["ProgramArguments"] == ["/usr/local/bin/snaptex"]
    assert agent["RunAtLoad"] is True
    autostart.set_enabled(False)
    assert not autostart.mac_agent_path().exists()


def test_launch_command_prefers_the_installed_script(monkeypatch):
    monkeypatch.setattr(platform_info, "which", lambda name: f"/usr/bin/{name}")
    assert autostart.launch_command() == ["/usr/bin/snaptex"]
    monkeypatch.setattr(platform_info, "which", lambda name: None)
    assert autostart.launch_command()[1:] == ["-m", "desktop_app"]
