"""Training compute time that survives resumes: kept in every checkpoint.

A long CPU run is stopped and resumed many times, so the time between a run's first
and last folder counts the pauses too. This callback sums the seconds spent inside
``Trainer.train()`` calls and stores the total in each checkpoint's
``trainer_state.json`` (the Trainer's ``stateful_callbacks``, plain JSON), where a
resumed run picks it up and the model card reads it.
"""

from __future__ import annotations

import time

from transformers import TrainerCallback
from transformers.trainer_callback import ExportableState


class ComputeTimeCallback(TrainerCallback, ExportableState):
    """``seconds``: compute time since step ``since_step`` (0 unless the run began
    before this callback existed, when the count starts at the step it resumed from)."""

    def __init__(self, seconds: float = 0.0, since_step: int | None = None) -> None:
        self.seconds = seconds
        self.since_step = since_step
        self._started: float | None = None

    def on_train_begin(self, args, state, control, **kwargs):
        saved = recorded(state.stateful_callbacks)
        if saved is not None:  # a resume: carry on from the checkpoint's figure
            self.seconds, self.since_step = saved["seconds"], saved["since_step"]
        if self.since_step is None:
            self.since_step = state.global_step
        # A checkpoint from before this callback lacks the key the Trainer's save updates.
        state.stateful_callbacks[KEY] = self.state()
        self._started = time.monotonic()

    def on_train_end(self, args, state, control, **kwargs):
        self.seconds = self.total()
        self._started = None

    def total(self) -> float:
        running = time.monotonic() - self._started if self._started is not None else 0.0
        return self.seconds + running

    def state(self) -> dict:
        return {"args": {}, "attributes": {"seconds": round(self.total(), 3),
                                           "since_step": self.since_step}}


KEY = ComputeTimeCallback.__name__  # the Trainer files a callback's state under its class name


def recorded(stateful_callbacks: dict | None) -> dict | None:
    """``{"seconds", "since_step"}`` from a trainer state's callbacks, if it has them."""
    entry = (stateful_callbacks or {}).get(KEY)
    attributes = entry.get("attributes", {}) if isinstance(entry, dict) else {}
    if "seconds" not in attributes:
        return None
    return {"seconds": float(attributes["seconds"]), "since_step": attributes.get("since_step")}
