"""A blocking client that runs the worker as a subprocess (benchmarks, tests, scripts).

Standard library only. The desktop app has its own non-blocking QProcess client.
"""

from __future__ import annotations

import collections
import contextlib
import json
import os
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


class WorkerProcess:
    """``python -m model.worker ARGS`` with line-oriented send/read and timeouts."""

    def __init__(
        self, *args: str, env: dict | None = None, log_level: str = "WARNING"
    ) -> None:
        self.started = time.perf_counter()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "model.worker", "--log-level", log_level, *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=REPO,
            env={**os.environ, **(env or {})},
        )
        # A thread drains stdout into a queue: select() on a buffered pipe misses lines
        # that arrived together and already sit in Python's buffer.
        self._lines: queue.Queue[bytes] = queue.Queue()
        self._log: collections.deque[bytes] = collections.deque(maxlen=200)
        threading.Thread(target=self._pump, daemon=True).start()
        # stderr is drained too, or a chatty worker would block on a full pipe.
        threading.Thread(target=self._drain_stderr, daemon=True).start()

    def _drain_stderr(self) -> None:
        for line in iter(self.proc.stderr.readline, b""):
            self._log.append(line)

    def _pump(self) -> None:
        for line in iter(self.proc.stdout.readline, b""):
            self._lines.put(line)
        self._lines.put(b"")  # EOF marker

    @property
    def pid(self) -> int:
        return self.proc.pid

    def send(self, line: bytes) -> None:
        self.proc.stdin.write(line)
        self.proc.stdin.flush()

    def read(self, timeout: float = 120.0) -> dict:
        try:
            line = self._lines.get(timeout=timeout)
        except queue.Empty:
            raise TimeoutError("no reply from the worker") from None
        if not line:
            self._lines.put(b"")  # stay at EOF for later reads
            self.proc.wait(timeout=10)
            tail = b"".join(self._log).decode(errors="replace")[-2000:]
            raise EOFError(f"worker exited: {tail}")
        return json.loads(line)

    def wait_ready(self, timeout: float = 180.0) -> dict:
        """The first status that is not ``loading`` (``ready`` or ``error``)."""
        while True:
            message = self.read(timeout)
            if message.get("type") == "status" and message["state"] != "loading":
                return message

    def peak_rss_mb(self) -> float | None:
        """Peak resident memory of the worker so far (Linux ``VmHWM``)."""
        try:
            status = Path(f"/proc/{self.pid}/status").read_text()
        except OSError:
            return None
        for line in status.splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        return None

    def close(self, timeout: float = 30.0) -> int:
        with contextlib.suppress(BrokenPipeError):  # the worker is already gone
            self.proc.stdin.close()
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return -9
