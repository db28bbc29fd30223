"""Benchmarks and profilers of the worker and model shapes: tooling, never imported by the app."""
