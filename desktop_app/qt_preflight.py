"""Before Qt starts: can it load here? If not, say which system packages to install.

Qt aborts the process (SIGABRT, exit 134) when its xcb platform plugin cannot be loaded,
and its message names the wrong library on most machines ("xcb-cursor0 is needed") while
the libraries really missing are others the plugin links against; a library missing
under Qt itself fails ``import PySide6.QtCore``. So ``snaptex`` looks first, without
loading Qt: ``ldd`` on the Qt libraries shipped inside PySide6 (and on the xcb plugin
where Qt will use it) lists every shared library that does not resolve; each is mapped
to the package that provides it on the user's distribution family (/etc/os-release), and
the user gets one line with the install command, and exit status
:data:`EXIT_MISSING_LIBRARIES`. With no display at all the exit status is
:data:`EXIT_NO_DISPLAY`. Standard library only; imports no Qt module.
"""

from __future__ import annotations

import ctypes
import importlib.util
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from desktop_app import platform_info
from model.exit_codes import EXIT_MISSING_LIBRARIES, EXIT_NO_DISPLAY

FAMILIES = ("debian", "fedora", "arch", "suse")
# Distribution ids (os-release ID / ID_LIKE) -> family.
FAMILY_OF_ID = {
    "debian": "debian", "ubuntu": "debian", "linuxmint": "debian", "pop": "debian",
    "raspbian": "debian", "fedora": "fedora", "rhel": "fedora", "centos": "fedora",
    "rocky": "fedora", "almalinux": "fedora", "arch": "arch", "manjaro": "arch",
    "endeavouros": "arch", "suse": "suse", "opensuse": "suse", "opensuse-leap": "suse",
    "opensuse-tumbleweed": "suse", "sles": "suse",
}
INSTALL_COMMAND = {
    "debian": "sudo apt-get install",
    "fedora": "sudo dnf install",
    "arch": "sudo pacman -S --needed",
    "suse": "sudo zypper install",
}
# What Qt's xcb plugin links against: soname, then its package per family (FAMILIES).
_TABLE = """
# soname                 debian               fedora               arch                 suse
libxcb-cursor.so.0       libxcb-cursor0       xcb-util-cursor      xcb-util-cursor      libxcb-cursor0
libxcb-icccm.so.4        libxcb-icccm4        xcb-util-wm          xcb-util-wm          libxcb-icccm4
libxcb-keysyms.so.1      libxcb-keysyms1      xcb-util-keysyms     xcb-util-keysyms     libxcb-keysyms1
libxcb-image.so.0        libxcb-image0        xcb-util-image       xcb-util-image       libxcb-image0
libxcb-render-util.so.0  libxcb-render-util0  xcb-util-renderutil  xcb-util-renderutil  libxcb-render-util0
libxcb-util.so.1         libxcb-util1         xcb-util             xcb-util             libxcb-util1
libxcb-randr.so.0        libxcb-randr0        libxcb               libxcb               libxcb-randr0
libxcb-shape.so.0        libxcb-shape0        libxcb               libxcb               libxcb-shape0
libxcb-shm.so.0          libxcb-shm0          libxcb               libxcb               libxcb-shm0
libxcb-sync.so.1         libxcb-sync1         libxcb               libxcb               libxcb-sync1
libxcb-xfixes.so.0       libxcb-xfixes0       libxcb               libxcb               libxcb-xfixes0
libxcb-xkb.so.1          libxcb-xkb1          libxcb               libxcb               libxcb-xkb1
libxcb-render.so.0       libxcb-render0       libxcb               libxcb               libxcb-render0
libxcb.so.1              libxcb1              libxcb               libxcb               libxcb1
libxkbcommon-x11.so.0    libxkbcommon-x11-0   libxkbcommon-x11     libxkbcommon-x11     libxkbcommon-x11-0
libxkbcommon.so.0        libxkbcommon0        libxkbcommon         libxkbcommon         libxkbcommon0
libX11-xcb.so.1          libx11-xcb1          libX11-xcb           libx11               libX11-xcb1
libX11.so.6              libx11-6             libX11               libx11               libX11-6
libGL.so.1               libgl1               libglvnd-glx         libglvnd             libGL1
libEGL.so.1              libegl1              libglvnd-egl         libglvnd             libEGL1
libOpenGL.so.0           libopengl0           libglvnd-opengl      libglvnd             libOpenGL0
libfontconfig.so.1       libfontconfig1       fontconfig           fontconfig           libfontconfig1
libfreetype.so.6         libfreetype6         freetype             freetype2            libfreetype6
libglib-2.0.so.0         libglib2.0-0         glib2                glib2                libglib-2_0-0
libgthread-2.0.so.0      libglib2.0-0         glib2                glib2                libgthread-2_0-0
libdbus-1.so.3           libdbus-1-3          dbus-libs            dbus                 libdbus-1-3
libbrotlidec.so.1        libbrotli1           libbrotli            brotli               libbrotlidec1
libbrotlicommon.so.1     libbrotli1           libbrotli            brotli               libbrotlicommon1
libpng16.so.16           libpng16-16          libpng               libpng               libpng16-16
libz.so.1                zlib1g               zlib                 zlib                 libz1
libzstd.so.1             libzstd1             libzstd              zstd                 libzstd1
libexpat.so.1            libexpat1            expat                expat                libexpat1
"""
PACKAGES = {
    row[0]: tuple(row[1:])
    for row in (line.split() for line in _TABLE.splitlines())
    if row and not row[0].startswith("#")
}
NOT_FOUND = re.compile(r"^\s*(\S+)\s*=>\s*not found", re.MULTILINE)
DLOPEN_ERROR = re.compile(r"(\S+\.so[.\d]*): cannot open shared object file")


@dataclass(frozen=True)
class Problem:
    """Why the tray app cannot start here: one line for the user and the exit status."""

    message: str
    exit_code: int


def distro_family(os_release: str) -> str | None:
    """"debian", "fedora", "arch" or "suse" from /etc/os-release's ID and ID_LIKE."""
    fields = dict(
        (key, value.strip().strip("\"'"))
        for key, _, value in (line.partition("=") for line in os_release.splitlines())
    )
    ids = [fields.get("ID", ""), *fields.get("ID_LIKE", "").split()]
    return next((FAMILY_OF_ID[i.lower()] for i in ids if i.lower() in FAMILY_OF_ID), None)


def missing_sonames(ldd_output: str) -> list[str]:
    """Libraries ``ldd`` could not resolve, in its order, each once."""
    return list(dict.fromkeys(NOT_FOUND.findall(ldd_output)))


def packages_for(sonames: list[str], family: str | None) -> list[str]:
    """The packages providing ``sonames`` on ``family``, each once; a soname with no
    known package (or an unknown family) stands for itself."""
    column = FAMILIES.index(family) if family in FAMILIES else None
    names = [PACKAGES[s][column] if column is not None and s in PACKAGES else s
             for s in sonames]
    return list(dict.fromkeys(names))


def install_line(sonames: list[str], family: str | None) -> str:
    """The one line the user reads."""
    found = ", ".join(sonames)
    head = ("SnapTeX cannot open its window: Qt needs system libraries that are "
            f"missing ({found}).")
    if family is None:
        return f"{head} Install the packages of your distribution that provide them."
    packages = " ".join(packages_for(sonames, family))
    return f"{head} Install them with: {INSTALL_COMMAND[family]} {packages}"


# The Qt libraries the tray app loads, then the xcb plugin and the library behind it.
QT_LIBRARIES = ("libQt6Core.so.6", "libQt6Gui.so.6", "libQt6Widgets.so.6",
                "libQt6Network.so.6", "libQt6DBus.so.6")


def qt_files(xcb: bool = True) -> list[Path]:
    """The Qt libraries (and, with ``xcb``, the xcb plugin and the library behind it) as
    shipped in the PySide6 wheel; empty when PySide6 is not laid out like the wheel (a
    distribution's own Qt, which its packages bring the libraries for)."""
    spec = importlib.util.find_spec("PySide6")  # finds the package without loading Qt
    if spec is None or not spec.submodule_search_locations:
        return []
    qt = Path(next(iter(spec.submodule_search_locations))) / "Qt"
    plugin = qt / "plugins" / "platforms" / "libqxcb.so"
    if not plugin.is_file():
        return []
    names = (*QT_LIBRARIES, "libQt6XcbQpa.so.6") if xcb else QT_LIBRARIES
    libraries = [qt / "lib" / name for name in names]
    return [path for path in libraries if path.is_file()] + ([plugin] if xcb else [])


def unresolved_libraries(files: list[Path]) -> list[str]:
    """Sonames the dynamic loader cannot find for ``files``: every one from ``ldd``;
    without ``ldd`` (not glibc), the first one ``dlopen`` stumbles on."""
    if not files:
        return []
    ldd = platform_info.which("ldd")
    if ldd is None:
        return _first_dlopen_failure(files[-1])
    try:  # one ldd for all files: it runs on every start, `snaptex snip` included
        output = subprocess.run([ldd, *map(str, files)], capture_output=True, text=True,
                                timeout=10, check=False).stdout
    except (OSError, subprocess.SubprocessError):
        return []  # cannot tell: let Qt try
    return missing_sonames(output)


def _first_dlopen_failure(path: Path) -> list[str]:
    try:
        ctypes.CDLL(str(path))
    except OSError as exc:
        found = DLOPEN_ERROR.search(str(exc))
        return [found.group(1)] if found else []
    return []


def will_use_xcb(requested: str, x_display: bool, wayland_display: bool) -> bool:
    """Whether Qt is going to load its xcb plugin: asked for, or the only display is X
    (on a Wayland session Qt tries its Wayland plugin first)."""
    return requested == "xcb" or (requested == "" and x_display and not wayland_display)


def check(os_name: str, requested: str, x_display: bool, wayland_display: bool,
          unresolved=unresolved_libraries, files=qt_files,
          os_release=platform_info.os_release) -> Problem | None:
    """The reason the tray app cannot start on this machine, or None. The Qt libraries
    are checked whatever the platform; the xcb plugin's where Qt will load it."""
    if os_name != "linux":
        return None
    if requested == "" and not (x_display or wayland_display):
        return Problem(
            "SnapTeX's tray app needs a graphical session, and this one has no X "
            "display (DISPLAY) and no Wayland display; start it from your desktop, or "
            "read image files without one: snaptex ocr FILE", EXIT_NO_DISPLAY)
    sonames = unresolved(files(will_use_xcb(requested, x_display, wayland_display)))
    if not sonames:
        return None
    return Problem(install_line(sonames, distro_family(os_release())),
                   EXIT_MISSING_LIBRARIES)


def problem_here() -> Problem | None:
    """:func:`check` for this machine and environment."""
    x_display, wayland_display = platform_info.display_servers()
    return check(platform_info.os_name(), platform_info.qt_platform_requested(),
                 x_display, wayland_display)
