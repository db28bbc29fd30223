"""Platform checks live in platform_info.py only (architecture rule 2 / 6.4)."""

import re
from pathlib import Path

import desktop_app

PACKAGE = Path(desktop_app.__file__).parent
PLATFORM_PROBES = re.compile(
    r"sys\.platform|os\.environ|os\.getenv|shutil\.which|platform\.system|"
    r"WAYLAND_DISPLAY|XDG_SESSION_TYPE|XDG_CURRENT_DESKTOP"
)
ALLOWED = {"platform_info.py"}


def test_platform_probes_only_in_platform_info():
    offenders = [
        f"{path.relative_to(PACKAGE)}:{number}: {line.strip()}"
        for path in sorted(PACKAGE.rglob("*.py"))
        if path.name not in ALLOWED
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if PLATFORM_PROBES.search(line)
    ]
    assert offenders == []


def test_the_guard_can_see_a_probe():
    assert PLATFORM_PROBES.search('if sys.platform == "win32":')
    assert PLATFORM_PROBES.search('os.environ.get("WAYLAND_DISPLAY")')
