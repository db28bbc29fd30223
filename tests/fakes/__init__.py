"""Test doubles at the process boundary."""

import sys
from pathlib import Path

FAKE_WORKER_SCRIPT = Path(__file__).resolve().parent / "fake_worker.py"
# argv that starts the fake worker (append its --behaviour etc. flags)
FAKE_WORKER = [sys.executable, str(FAKE_WORKER_SCRIPT)]
