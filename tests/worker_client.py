"""Tests drive the worker through the same blocking client the benchmarks use."""

from bench.worker_process import REPO, WorkerProcess

__all__ = ["REPO", "WorkerProcess"]
