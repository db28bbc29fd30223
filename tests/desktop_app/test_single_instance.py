"""Single instance: a second launch forwards its command to the running one."""

import subprocess
import sys

import pytest

from desktop_app.single_instance import InstanceServer, send_command


@pytest.fixture
def server(qapp, tmp_path):
    name = f"snaptex-test-{tmp_path.name}"
    instance = InstanceServer(name)
    assert instance.listen()
    yield instance
    instance.close()


def send_from_another_process(name, command):
    code = (
        "import sys; from PySide6.QtCore import QCoreApplication;"
        "from desktop_app.single_instance import send_command;"
        f"sys.exit(0 if send_command({command!r}, {name!r}) else 1)"
    )
    return subprocess.Popen([sys.executable, "-c", code])


@pytest.mark.parametrize("command", ["snip", "clipboard", "quit"])
def test_commands_are_forwarded(server, qtbot, command):
    with qtbot.waitSignal(server.command_received, timeout=10000) as received:
        child = send_from_another_process(server.name, command)
    assert received.args == [command]
    qtbot.waitUntil(lambda: child.poll() is not None, timeout=10000)
    assert child.returncode == 0


def test_unknown_command_is_refused(server, qtbot):
    with qtbot.assertNotEmitted(server.command_received, wait=300):
        child = send_from_another_process(server.name, "format-disk")
        qtbot.waitUntil(lambda: child.poll() is not None, timeout=10000)
    assert child.returncode == 1


def test_no_instance_running(qapp, tmp_path):
    assert (
        send_command("snip", f"snaptex-nobody-{tmp_path.name}", timeout_ms=300) is False
    )


def test_stale_socket_is_replaced(qapp, tmp_path):
    name = f"snaptex-stale-{tmp_path.name}"
    first = InstanceServer(name)
    assert first.listen()
    # a crashed instance leaves its socket file behind; a new one takes over
    second = InstanceServer(name)
    assert second.listen()
    first.close()
    second.close()
