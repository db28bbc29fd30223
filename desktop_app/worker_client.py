"""The inference worker as a QProcess: JSON Lines in, Qt signals out.

Owns the worker's lifecycle (start, loading progress, restart with back-off on crash,
kill and restart when a request overruns its deadline, clean shutdown) and request ids.
It never blocks the GUI thread except in ``close()`` at quit, bounded to two seconds.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import sys
import time
import uuid
from collections import deque
from functools import partial
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QProcess, QProcessEnvironment, QTimer, Signal

from desktop_app import platform_info
from desktop_app.qt_compat import make_timer
from model import protocol
from model.protocol import ErrorCode, ProtocolError, WorkerState

logger = logging.getLogger(__name__)

# Client-side failure codes, next to the protocol's ErrorCode values.
TIMEOUT = "timeout"
CRASHED = "worker_crashed"
UNAVAILABLE = "worker_unavailable"
# A ``bad_image`` error whose optional ``reason`` is "blank": the snip has no ink.
BLANK_IMAGE = "blank_image"
# The worker's optional follow-up to a result, protocol.CHECK_MESSAGE: a slower
# self-check that finished after the copy. Older workers never send it.


def worker_command(model_dir: str, device: str, threads: int) -> list[str]:
    """argv that starts the worker; a frozen build relaunches itself as the worker."""
    head = (
        [sys.executable, "worker"]
        if platform_info.is_frozen()
        else [sys.executable, "-m", "model.worker"]
    )
    args = ["--device", device, "--threads", str(threads)]
    return head + (["--model", model_dir] if model_dir else []) + args


def _worker_environment() -> QProcessEnvironment:
    """The app's environment plus the folder holding ``model`` on PYTHONPATH, so a
    source checkout works without installing."""
    env = QProcessEnvironment.systemEnvironment()
    spec = importlib.util.find_spec("model")
    if spec and spec.origin:
        root = str(Path(spec.origin).resolve().parents[1])
        paths = [root, *filter(None, [env.value("PYTHONPATH")])]
        env.insert("PYTHONPATH", os.pathsep.join(paths))
    env.insert("PYTHONUNBUFFERED", "1")
    return env


class WorkerClient(QObject):
    state_changed = Signal(str, str)  # WorkerState value, short human detail
    result_ready = Signal(str, dict)  # request id, result message
    request_failed = Signal(str, str, str)  # request id, code, user-facing detail
    check_ready = Signal(str, dict)  # request id, late self-check of its result

    def __init__(
        self,
        command: list[str],
        timeout_s: float = 180.0,
        backoff_s: tuple[float, ...] = (1.0, 2.0, 4.0),
        max_crashes: int = 3,
        crash_window_s: float = 60.0,
        cancel_grace_s: float = 10.0,
        parent: QObject | None = None,
    ):
        super().__init__(parent)
        self.command = list(command)
        self.timeout_s = timeout_s
        self.backoff_s, self.max_crashes = backoff_s, max_crashes
        self.crash_window_s, self.cancel_grace_s = crash_window_s, cancel_grace_s
        self.state, self.detail = WorkerState.LOADING, "not started"
        self.info: dict[str, Any] = {}
        self._process: QProcess | None = None
        self._buffer = bytearray()
        self._stderr_tail: deque[str] = deque(maxlen=20)
        self._pending: tuple[str, bytes] | None = None
        self._in_flight: dict[str, tuple[QTimer, bytes]] = {}
        self._cancelled: set[str] = set()
        self._crashes: deque[float] = deque()
        self._fatal: str | None = None
        self._expected_exit = self._closing = False
        self._loading_since = time.monotonic()
        self._tick = make_timer(self, 1000)
        self._tick.timeout.connect(self._on_tick)

    # -- lifecycle -----------------------------------------------------------------

    def start(self) -> None:
        self._fatal, self._closing = None, False
        self._buffer.clear()
        process = QProcess(self)
        process.setProgram(self.command[0])
        process.setArguments(self.command[1:])
        process.setProcessEnvironment(_worker_environment())
        process.readyReadStandardOutput.connect(self._on_stdout)
        process.readyReadStandardError.connect(self._on_stderr)
        process.finished.connect(self._on_finished)
        process.errorOccurred.connect(self._on_process_error)
        self._process = process
        self._loading_since = time.monotonic()
        self._set_state(WorkerState.LOADING, "starting the recogniser")
        self._tick.start()
        logger.info("starting worker: %s", " ".join(self.command))
        process.start()

    def restart(self, command: list[str] | None = None) -> None:
        """Apply new start-up arguments (model, device, threads): a fresh worker."""
        if command is not None:
            self.command = list(command)
        self._crashes.clear()
        if self.is_running():
            self._kill(expected=True)
        else:
            self.start()

    def close(self) -> None:
        """Ask the worker to exit, wait briefly, then kill: no orphans, no warnings."""
        self._closing = True
        self._tick.stop()
        for timer, _ in self._in_flight.values():
            timer.stop()
        process, self._process = self._process, None
        if process is None:
            return
        for signal in (
            process.readyReadStandardOutput,
            process.readyReadStandardError,
            process.finished,
            process.errorOccurred,
        ):
            signal.disconnect()
        if process.state() != QProcess.ProcessState.NotRunning:
            # The worker finishes queued work before a shutdown: cancel it first.
            for request_id in self._in_flight:
                process.write(protocol.cancel(request_id))
            process.write(protocol.shutdown())
            if not process.waitForFinished(2000):
                process.kill()
                process.waitForFinished(1000)
        process.deleteLater()

    def is_running(self) -> bool:
        return (
            self._process is not None
            and self._process.state() != QProcess.ProcessState.NotRunning
        )

    # -- requests ------------------------------------------------------------------

    def predict(self, png: bytes, options: dict[str, Any] | None = None) -> str:
        """Queue or send one image; the answer comes as result_ready/request_failed."""
        request_id = uuid.uuid4().hex[:12]
        line = protocol.predict(request_id, png, options)
        if self.state is WorkerState.ERROR:  # gave up, or a worker with no model
            message = self._fatal or self.detail
            QTimer.singleShot(
                0, partial(self.request_failed.emit, request_id, UNAVAILABLE, message)
            )
        elif self.state in (WorkerState.READY, WorkerState.BUSY) and self.is_running():
            self._send(request_id, line)
        else:  # still loading: keep only the newest request (latest wins)
            self._pending = (request_id, line)
        return request_id

    def cancel(self, request_id: str) -> None:
        if self._pending and self._pending[0] == request_id:
            self._pending = None
            return
        if request_id in self._in_flight and self.is_running():
            self._cancelled.add(request_id)
            self._process.write(protocol.cancel(request_id))
            # A worker that ignores the cancel is killed after a short grace period.
            timer, _ = self._in_flight[request_id]
            timer.start(int(self.cancel_grace_s * 1000))

    def _send(self, request_id: str, line: bytes) -> None:
        timer = make_timer(self, int(self.timeout_s * 1000), single_shot=True)
        timer.timeout.connect(partial(self._on_deadline, request_id))
        timer.start()
        self._in_flight[request_id] = (timer, line)
        self._process.write(line)
        self._set_state(WorkerState.BUSY, "recognising")

    def _finish(self, request_id: str) -> bool:
        """Forget a request; True if the UI still wants its outcome."""
        entry = self._in_flight.pop(request_id, None)
        if entry:
            entry[0].stop()
        wanted = request_id not in self._cancelled
        self._cancelled.discard(request_id)
        if not self._in_flight and self.state is WorkerState.BUSY:
            self._set_state(WorkerState.READY, self._ready_detail())
        return wanted and entry is not None

    def _on_deadline(self, request_id: str) -> None:
        if request_id not in self._in_flight:
            return
        logger.warning(
            "request %s overran its deadline; restarting the worker", request_id
        )
        if request_id not in self._cancelled:
            self.request_failed.emit(
                request_id, TIMEOUT, f"no answer after {self.timeout_s:g} s"
            )
        self._finish(request_id)
        self._kill(expected=True)

    # -- worker output -------------------------------------------------------------

    def _on_stdout(self) -> None:
        if self._process is None:
            return
        self._buffer += bytes(self._process.readAllStandardOutput().data())
        *lines, rest = self._buffer.split(b"\n")
        self._buffer = bytearray(rest)
        for line in lines:
            if line.strip():
                self._handle_line(bytes(line))

    def _handle_line(self, line: bytes) -> None:
        try:
            message = protocol.decode(line)
        except ProtocolError as exc:  # stray output must not kill the session
            logger.warning(
                "ignoring a bad line from the worker (%s): %r", exc, line[:200]
            )
            return
        kind = message.get("type")
        if kind == "status":
            self._on_status(message)
        elif kind == "result":
            request_id = str(message.get("id"))
            if self._finish(request_id):
                self.result_ready.emit(request_id, message)
        elif kind == protocol.CHECK_MESSAGE:
            # Comes after the result, so the request is no longer in flight; the
            # controller decides whether that result is still shown or remembered.
            self.check_ready.emit(str(message.get("id")), message)
        elif kind == "error":
            self._on_error_message(message)

    def _on_status(self, message: dict[str, Any]) -> None:
        try:
            state = WorkerState(message.get("state"))
        except ValueError:
            logger.warning("unknown worker state %r", message.get("state"))
            return
        self.info.update({k: v for k, v in message.items() if k not in ("v", "type")})
        if state is WorkerState.READY:
            self._tick.stop()
            self._set_state(state, self._ready_detail())
            if self._pending:
                (request_id, line), self._pending = self._pending, None
                self._send(request_id, line)
        elif state is WorkerState.LOADING:
            self._set_state(state, self._loading_detail())
        elif state is WorkerState.ERROR:  # e.g. the model failed to load: final
            self._tick.stop()
            self._fatal = str(
                message.get("message") or "the recogniser failed to start"
            )
            self._set_state(state, self._fatal)
        else:
            self._set_state(state, str(message.get("message", state.value)))

    def _on_error_message(self, message: dict[str, Any]) -> None:
        code = str(message.get("code", ErrorCode.INTERNAL.value))
        text = str(message.get("message", "unknown error"))
        if code == ErrorCode.BAD_IMAGE.value and message.get("reason") == protocol.BLANK_REASON:
            code = BLANK_IMAGE
        request_id = message.get("id")
        if code == ErrorCode.MODEL_UNAVAILABLE.value:
            self._fatal = text  # restarting cannot fix a missing model
            self._set_state(WorkerState.ERROR, text)
        if request_id is not None:
            if self._finish(str(request_id)):
                self.request_failed.emit(str(request_id), code, text)
        else:
            logger.warning("worker error: %s (%s)", text, code)

    def _on_stderr(self) -> None:
        if self._process is None:
            return
        text = bytes(self._process.readAllStandardError().data()).decode(
            "utf-8", "replace"
        )
        for line in text.splitlines():
            if line.strip():
                self._stderr_tail.append(line)
                logger.debug("worker: %s", line)

    # -- exits and restarts --------------------------------------------------------

    def _kill(self, expected: bool) -> None:
        self._expected_exit = expected
        self._set_state(WorkerState.LOADING, "restarting the recogniser")
        if self._process is not None:
            self._process.kill()

    def _on_process_error(self, error: QProcess.ProcessError) -> None:
        logger.warning("worker process error: %s", error)
        if error == QProcess.ProcessError.FailedToStart:  # no finished() follows
            self._on_finished(-1, QProcess.ExitStatus.CrashExit)

    def _on_finished(self, exit_code: int, _status: QProcess.ExitStatus) -> None:
        if self._closing:
            return
        self._tick.stop()
        logger.info("worker exited with code %s", exit_code)
        self._requeue_or_fail_in_flight(requeue=self._expected_exit)
        if self._expected_exit:
            self._expected_exit = False
            self.start()
        elif self._fatal:
            self._set_state(WorkerState.ERROR, self._fatal)
        else:
            self._after_crash(exit_code)

    def _requeue_or_fail_in_flight(self, requeue: bool) -> None:
        """After an exit: a deliberate restart re-sends the newest live request; a
        crash fails them all (the user sees one message, stale ids are dropped)."""
        live = [rid for rid in self._in_flight if rid not in self._cancelled]
        lines = {rid: line for rid, (_, line) in self._in_flight.items()}
        for timer, _ in self._in_flight.values():
            timer.stop()
        self._in_flight.clear()
        self._cancelled.clear()
        if requeue and live:
            self._pending = (live[-1], lines[live[-1]])
            live = live[:-1]
        for request_id in live:
            self.request_failed.emit(request_id, CRASHED, "the recogniser stopped")

    def _after_crash(self, exit_code: int) -> None:
        now = time.monotonic()
        self._crashes.append(now)
        while self._crashes and now - self._crashes[0] > self.crash_window_s:
            self._crashes.popleft()
        last = self._stderr_tail[-1] if self._stderr_tail else f"exit code {exit_code}"
        if len(self._crashes) >= self.max_crashes:
            self._set_state(
                WorkerState.ERROR, f"The recogniser keeps crashing ({last})"
            )
            return
        delay = self.backoff_s[min(len(self._crashes), len(self.backoff_s)) - 1]
        self._set_state(
            WorkerState.LOADING, f"recogniser crashed; restarting in {delay:g} s"
        )
        QTimer.singleShot(int(delay * 1000), self._restart_after_crash)

    def _restart_after_crash(self) -> None:
        if not self._closing and not self.is_running():
            self.start()

    # -- state ---------------------------------------------------------------------

    def _set_state(self, state: WorkerState, detail: str) -> None:
        self.state, self.detail = state, detail
        if state is WorkerState.ERROR:
            self._fail_pending_quietly()
        self.state_changed.emit(state.value, detail)

    def _fail_pending_quietly(self) -> None:
        if self._pending:
            (request_id, _), self._pending = self._pending, None
            QTimer.singleShot(
                0,
                partial(self.request_failed.emit, request_id, UNAVAILABLE, self.detail),
            )

    def _on_tick(self) -> None:
        if self.state is WorkerState.LOADING and self.is_running():
            self._set_state(WorkerState.LOADING, self._loading_detail())

    def _loading_detail(self) -> str:
        elapsed = int(time.monotonic() - self._loading_since)
        model = self.info.get("model")
        what = f"loading {model}" if model else "loading the model"
        return f"{what}… {elapsed} s"

    def _ready_detail(self) -> str:
        parts = [str(self.info[k]) for k in ("device", "dtype") if self.info.get(k)]
        return "ready" + (f" ({', '.join(parts)})" if parts else "")
