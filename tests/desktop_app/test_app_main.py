"""The real entry points in subprocesses: single instance, --capture, snip, --quit,
and the process boundary (the running UI never loads torch or transformers)."""

import os
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
from fakes import FAKE_WORKER
from PySide6.QtNetwork import QLocalSocket

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def app_env(tmp_path):
    return {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "PYTHONPATH": str(REPO),
        "SNAPTEX_INSTANCE": f"snaptex-t-{os.getpid()}-{tmp_path.name}",
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "HOME": str(tmp_path),
    }


def snaptex(env, *args, **kwargs):
    options = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE, **kwargs}
    return subprocess.Popen(
        [sys.executable, "-m", "desktop_app", *args], env=env, cwd=REPO, text=True, **options
    )


def wait_listening(name, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        socket = QLocalSocket()
        socket.connectToServer(name)
        if socket.waitForConnected(200):
            socket.abort()
            return
        time.sleep(0.2)
    raise AssertionError("the app never started listening")


def worker_flag(tmp_path):
    record = tmp_path / "worker.jsonl"
    return [
        "--worker-command",
        " ".join([*FAKE_WORKER, "--record", str(record)]),
    ], record


class StderrTail:
    """A process's stderr lines as they come, so a test can wait for the app to reach a
    phase before it sends the next command (a snip hides SnapTeX's own windows and waits
    for them to vanish before it grabs the screens)."""

    def __init__(self, process):
        self.lines: list[str] = []
        self._reader = threading.Thread(target=lambda: self.lines.extend(process.stderr),
                                        daemon=True)
        self._reader.start()

    def wait_for(self, text, timeout=30.0):
        deadline = time.monotonic() + timeout
        while not any(text in line for line in self.lines):
            assert time.monotonic() < deadline, "".join(self.lines)[-2000:]
            time.sleep(0.1)

    def all(self):
        self._reader.join(timeout=10)
        return "".join(self.lines)


def finish(process, timeout=30):
    _out, err = process.communicate(timeout=timeout)
    return process.returncode, err


def test_second_launch_forwards_snip_and_quit(qapp, app_env, tmp_path):
    flags, record = worker_flag(tmp_path)
    app = snaptex(app_env, *flags, "--log-level", "DEBUG")
    tail = StderrTail(app)
    try:
        wait_listening(app_env["SNAPTEX_INSTANCE"])
        snip = subprocess.run(
            [sys.executable, "-m", "desktop_app", "snip"],
            env=app_env,
            cwd=REPO,
            capture_output=True,
            timeout=60,
        )
        assert snip.returncode == 0
        again = subprocess.run(
            [sys.executable, "-m", "desktop_app", "--capture"],
            env=app_env,
            cwd=REPO,
            capture_output=True,
            timeout=60,
        )
        assert again.returncode == 0
        tail.wait_for("phase capturing -> selecting")
        quit_ = subprocess.run(
            [sys.executable, "-m", "desktop_app", "--quit"],
            env=app_env,
            cwd=REPO,
            capture_output=True,
            timeout=60,
        )
        assert quit_.returncode == 0
        code = app.wait(timeout=30)
    finally:
        app.kill()
    err = tail.all()
    assert code == 0, err[-2000:]
    assert "phase capturing -> selecting" in err
    assert (
        err.count("phase idle -> capturing") == 1
    )  # the 2nd press re-raised the overlays
    assert '"op":"shutdown"' in record.read_text()  # the worker was shut down cleanly
    assert "Traceback" not in err
    log = tmp_path / "data" / "snaptex" / "snaptex" / "logs" / "snaptex.log"
    assert "starting worker" in log.read_text()  # the user's log file (Show log)


def test_snip_starts_the_app_when_none_runs(qapp, app_env, tmp_path):
    flags, _ = worker_flag(tmp_path)
    app = snaptex(app_env, "snip", *flags, "--log-level", "DEBUG", stdout=subprocess.DEVNULL)
    tail = StderrTail(app)
    try:
        wait_listening(app_env["SNAPTEX_INSTANCE"])
        tail.wait_for("phase capturing -> selecting")  # it snips as it starts
        subprocess.run(
            [sys.executable, "-m", "desktop_app", "--quit"],
            env=app_env,
            cwd=REPO,
            capture_output=True,
            timeout=60,
            check=True,
        )
        code = app.wait(timeout=30)
    finally:
        app.kill()
    assert code == 0, tail.all()[-2000:]


def test_quit_when_nothing_runs_is_a_clear_message(app_env):
    done = subprocess.run(
        [sys.executable, "-m", "desktop_app", "--quit"],
        env=app_env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert done.stderr.strip() == "SnapTeX is not running."


def test_bad_flag_is_one_line_not_a_traceback(app_env):
    done = subprocess.run(
        [sys.executable, "-m", "desktop_app", "--device", "tpu"],
        env=app_env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "invalid choice: 'tpu'" in done.stderr and "Traceback" not in done.stderr


def test_running_ui_never_imports_torch(app_env, tmp_path):
    # GIVEN the whole app composed, a result shown with its rendered preview
    code = textwrap.dedent(f"""
        import sys
        from pathlib import Path
        import desktop_app.app
        # forwarding a command needs neither widgets nor the preview
        assert "PySide6.QtWidgets" not in sys.modules, "widgets on the forwarding path"
        import desktop_app.composition as app_module
        from PySide6.QtCore import QSettings
        from PySide6.QtWidgets import QApplication
        assert "matplotlib" not in sys.modules  # the preview loads lazily
        app = QApplication([])
        settings = app_module.Settings(QSettings({str(tmp_path / "s.ini")!r},
                                                 QSettings.Format.IniFormat))
        parts = app_module.SnapTeXApp(settings, [sys.executable, "-c", "pass"],
                                      history_path=Path({str(tmp_path / "h.db")!r}))
        parts.popup.show_result(r"\\frac{{a}}{{b}}", 0.9, "raw", "Copied")
        assert not parts.popup.preview.pixmap().isNull()
        parts.shutdown()
        print(" ".join(sorted(sys.modules)))
    """)
    done = subprocess.run(
        [sys.executable, "-c", code],
        env=app_env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    loaded = set(done.stdout.split())
    # THEN neither torch nor transformers was ever imported
    assert "matplotlib" in loaded and "PySide6.QtWidgets" in loaded
    assert not {"torch", "transformers"} & loaded


@pytest.mark.gui
@pytest.mark.skipif(not os.environ.get("DISPLAY"), reason="needs an X display: "
                    "xvfb-run -a python -m pytest -m gui")
def test_the_app_starts_on_a_real_x_display_and_quits(app_env, tmp_path):
    # GIVEN an X display and no platform chosen: Qt loads its xcb plugin, as on a desktop
    env = {key: value for key, value in app_env.items() if key != "QT_QPA_PLATFORM"}
    flags, _record = worker_flag(tmp_path)
    process = snaptex(env, *flags)
    try:
        # WHEN it is up (single-instance server listening), a second launch asks it to quit
        wait_listening(env["SNAPTEX_INSTANCE"])
        done = subprocess.run([sys.executable, "-m", "desktop_app", "--quit"], env=env,
                              cwd=REPO, capture_output=True, text=True, timeout=60)
        # THEN both exit cleanly: the preflight let it through and Qt did not abort
        assert done.returncode == 0, done.stderr
        code, err = finish(process)
        assert code == 0 and "Traceback" not in err, err
    finally:
        if process.poll() is None:
            process.kill()
