"""The compute-time callback: counted across resumes, stored as plain JSON."""

import pytest
from transformers import TrainerControl, TrainerState

from training.export.bundled import compute_words
from training.trainer.compute_time import KEY, ComputeTimeCallback, recorded


def begin(callback, state):
    callback.on_train_begin(None, state, TrainerControl())
    return callback


def test_a_fresh_run_counts_from_step_zero():
    callback = ComputeTimeCallback()
    state = TrainerState(stateful_callbacks=[callback])
    begin(callback, state)
    saved = callback.state()["attributes"]
    assert saved["since_step"] == 0 and saved["seconds"] >= 0


def test_a_resume_carries_on_from_the_checkpoints_figure():
    state = TrainerState(global_step=40)
    state.stateful_callbacks = {KEY: {"args": {}, "attributes": {"seconds": 90.0,
                                                                  "since_step": 0}}}
    callback = begin(ComputeTimeCallback(), state)
    assert callback.since_step == 0 and callback.total() >= 90.0
    callback.on_train_end(None, state, TrainerControl())
    assert callback.seconds >= 90.0 and callback.total() == callback.seconds


def test_a_checkpoint_from_before_the_callback_starts_the_count_at_its_step():
    state = TrainerState(global_step=14400)
    state.stateful_callbacks = {"TrainerControl": {"args": {}, "attributes": {}}}
    callback = begin(ComputeTimeCallback(), state)
    assert callback.since_step == 14400
    assert KEY in state.stateful_callbacks  # the Trainer's save updates this key


@pytest.mark.parametrize(
    ("callbacks", "expected"),
    [
        (None, None),
        ({}, None),
        ({KEY: [{"attributes": {"seconds": 1}}]}, None),  # several of a kind: not ours
        ({KEY: {"args": {}, "attributes": {}}}, None),
        ({KEY: {"attributes": {"seconds": 7, "since_step": 3}}},
         {"seconds": 7.0, "since_step": 3}),
    ],
)
def test_recorded(callbacks, expected):
    assert recorded(callbacks) == expected


@pytest.mark.parametrize(
    ("saved", "step", "words"),
    [
        (None, 10, "not recorded (the run predates `training.trainer.compute_time`)"),
        ({"seconds": 5400.0, "since_step": 0}, 10, "1.50 h"),
        ({"seconds": 3600.0, "since_step": None}, 10, "1.00 h"),
        ({"seconds": 7200.0, "since_step": 14400}, 18800,
         "2.00 h for steps 14,400-18,800 (earlier steps ran before compute time was "
         "recorded)"),
    ],
)
def test_compute_words(saved, step, words):
    assert compute_words(saved, step) == words
