"""Before Qt starts: missing xcb libraries become one install line, no display a clear
message; the mapping is table-driven, the detection reads a recorded ``ldd`` output."""

from __future__ import annotations

import subprocess
import sys

import pytest

from desktop_app import qt_preflight as qp

# ldd of PySide6 6.11's libqxcb.so on a Debian 12 without the xcb utility libraries
LDD_OUTPUT = """\
\tlinux-vdso.so.1 (0x00007fa32d927000)
\tlibQt6XcbQpa.so.6 => /venv/PySide6/Qt/plugins/platforms/../../lib/libQt6XcbQpa.so.6 (0x1)
\tlibGL.so.1 => /lib/x86_64-linux-gnu/libGL.so.1 (0x00007fa32d7c9000)
\tlibxcb-cursor.so.0 => not found
\tlibxcb-icccm.so.4 => not found
\tlibxcb-util.so.1 => /lib/x86_64-linux-gnu/libxcb-util.so.1 (0x00007fa32d767000)
\tlibxcb-keysyms.so.1 => not found
\tlibxcb-icccm.so.4 => not found
\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007fa32ba1e000)
\t/lib64/ld-linux-x86-64.so.2 (0x00007fa32d929000)
"""
MISSING = ["libxcb-cursor.so.0", "libxcb-icccm.so.4", "libxcb-keysyms.so.1"]
DEBIAN = 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\n'


def test_ldd_output_gives_each_missing_library_once_in_order():
    assert qp.missing_sonames(LDD_OUTPUT) == MISSING
    assert qp.missing_sonames("\tlibc.so.6 => /lib/libc.so.6 (0x1)\n") == []


@pytest.mark.parametrize(
    ("os_release", "family"),
    [
        (DEBIAN, "debian"),
        ("ID=ubuntu\nID_LIKE=debian\n", "debian"),
        ('ID=linuxmint\nID_LIKE="ubuntu debian"\n', "debian"),
        ("ID=fedora\n", "fedora"),
        ('ID="rocky"\nID_LIKE="rhel centos fedora"\n', "fedora"),
        ("ID=arch\n", "arch"),
        ("ID=manjaro\nID_LIKE=arch\n", "arch"),
        ('ID="opensuse-tumbleweed"\nID_LIKE="opensuse suse"\n', "suse"),
        ("ID=nixos\n", None),
        ("", None),
    ],
)
def test_distro_family(os_release, family):
    assert qp.distro_family(os_release) == family


@pytest.mark.parametrize(
    ("family", "packages"),
    [
        ("debian", ["libxcb-cursor0", "libxcb-icccm4", "libxcb-keysyms1"]),
        ("fedora", ["xcb-util-cursor", "xcb-util-wm", "xcb-util-keysyms"]),
        ("arch", ["xcb-util-cursor", "xcb-util-wm", "xcb-util-keysyms"]),
        ("suse", ["libxcb-cursor0", "libxcb-icccm4", "libxcb-keysyms1"]),
        (None, MISSING),
    ],
)
def test_packages_per_family(family, packages):
    assert qp.packages_for(MISSING, family) == packages


def test_packages_are_named_once_and_unknown_libraries_stand_for_themselves():
    sonames = ["libxcb-shape.so.0", "libxcb-randr.so.0", "libweird.so.9"]
    assert qp.packages_for(sonames, "fedora") == ["libxcb", "libweird.so.9"]


def test_every_library_has_a_package_in_every_family():
    assert all(len(row) == len(qp.FAMILIES) for row in qp.PACKAGES.values())
    assert len(qp.PACKAGES) > 20


@pytest.mark.parametrize(
    ("family", "command"),
    [
        ("debian", "sudo apt-get install libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1"),
        ("fedora", "sudo dnf install xcb-util-cursor xcb-util-wm xcb-util-keysyms"),
        ("arch", "sudo pacman -S --needed xcb-util-cursor xcb-util-wm xcb-util-keysyms"),
        ("suse", "sudo zypper install libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1"),
    ],
)
def test_install_line_is_one_line_ending_in_the_command(family, command):
    line = qp.install_line(MISSING, family)
    assert "\n" not in line and line.endswith(f"Install them with: {command}")
    assert "libxcb-icccm.so.4" in line


def test_install_line_for_an_unknown_family_names_the_libraries():
    line = qp.install_line(MISSING, None)
    assert "libxcb-keysyms.so.1" in line and "sudo" not in line


def _check(requested="", x_display=True, wayland=False, os_name="linux", ldd=LDD_OUTPUT):
    """check() with ldd's answer recorded: ``ldd`` for the xcb files, nothing missing
    under Qt's own libraries."""
    def unresolved(files):
        return qp.missing_sonames(ldd) if "libqxcb.so" in files else []

    def files(xcb):
        return ["libQt6Core.so.6", *(["libqxcb.so"] if xcb else [])]

    return qp.check(os_name, requested, x_display, wayland, unresolved=unresolved,
                    files=files, os_release=lambda: DEBIAN)


def test_missing_libraries_on_x_are_refused_with_the_install_command():
    problem = _check()
    assert problem.exit_code == qp.EXIT_MISSING_LIBRARIES == 3
    assert problem.message.endswith(
        "sudo apt-get install libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1")
    assert _check(requested="xcb", wayland=True).exit_code == 3  # asked for by name


@pytest.mark.parametrize(
    "kwargs",
    [
        {"ldd": "\tlibc.so.6 => /lib/libc.so.6 (0x1)\n"},  # nothing missing
        {"requested": "offscreen"},  # another plugin: the xcb one does not matter
        {"requested": "wayland"},
        {"wayland": True},  # a Wayland session: Qt tries its Wayland plugin first
        {"os_name": "windows"},
        {"os_name": "macos", "x_display": False},
    ],
)
def test_nothing_to_say(kwargs):
    assert _check(**kwargs) is None


@pytest.mark.parametrize("requested", ["offscreen", "wayland", ""])
def test_libraries_missing_under_qt_itself_are_refused_on_any_platform(requested):
    problem = qp.check("linux", requested, False, True,
                       unresolved=lambda files: ["libglib-2.0.so.0"] if files else [],
                       files=lambda xcb: ["libQt6Core.so.6"], os_release=lambda: DEBIAN)
    assert problem.exit_code == 3 and problem.message.endswith("apt-get install libglib2.0-0")


def test_no_display_at_all_is_a_clear_message():
    problem = _check(x_display=False, wayland=False)
    assert problem.exit_code == qp.EXIT_NO_DISPLAY == 4
    assert "DISPLAY" in problem.message and "snaptex ocr" in problem.message


def test_the_real_plugin_is_found_and_ldd_runs_on_it():
    files = qp.qt_files()
    if sys.platform != "linux":
        pytest.skip("the xcb plugin ships on Linux only")
    names = [f.name for f in files]
    assert names[0] == "libQt6Core.so.6" and names[-2:] == ["libQt6XcbQpa.so.6", "libqxcb.so"]
    missing = qp.unresolved_libraries(files)
    # Cross-checked against ldd run directly: the same libraries, whatever this host has.
    direct = subprocess.run(["ldd", str(files[-1])], capture_output=True, text=True).stdout
    assert set(qp.missing_sonames(direct)) <= set(missing)


def test_the_app_exits_with_the_line_before_starting_qt(monkeypatch, capsys):
    from desktop_app import app

    monkeypatch.setattr(qp, "problem_here",
                        lambda: qp.Problem(qp.install_line(MISSING, "debian"), 3))
    monkeypatch.setattr("desktop_app.composition.run",
                        lambda *args: pytest.fail("the QApplication was started"))
    assert app.main([]) == 3
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("snaptex: SnapTeX cannot open its window")
