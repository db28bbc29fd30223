"""A blocking client that runs the worker as a subprocess (benchmarks, tests, scripts).

Standard library only. The desktop app has its own non-blocking QProcess client.
"""

from __future__ import annotations

import json
import os
import selectors
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


class WorkerProcess:
    """``python -m model.worker ARGS`` with line-oriented send/read and timeouts."""

    def __init__(self, *args: str, env: dict | None = None, log_level: str = "WARNING") -> None:
        self.started = time.perf_counter()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "model.worker", "--log-level", log_level, *args],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            cwd=REPO, env={**os.environ, **(env or {})},
        )
        self._selector = selectors.DefaultSelector()
        self._selector.register(self.proc.stdout, selectors.EVENT_READ)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def send(self, line: bytes) -> None:
        self.proc.stdin.write(line)
        self.proc.stdin.flush()

    def read(self, timeout: float = 120.0) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._selector.select(timeout=max(0.0, deadline - time.monotonic())):
                line = self.proc.stdout.readline()
                if not line:
                    tail = self.proc.stderr.read().decode(errors="replace")[-2000:]
                    raise EOFError(f"worker exited: {tail}")
                return json.loads(line)
        raise TimeoutError("no reply from the worker")

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
        try:
            self.proc.stdin.close()
        except BrokenPipeError:
            pass
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return -9
        finally:
            self.proc.stdout.close()
            self.proc.stderr.close()
