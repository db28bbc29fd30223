"""WorkerClient on QProcess against the scripted fake worker."""

import json

import pytest
from PySide6.QtCore import QProcess

from desktop_app.qt_compat import make_timer
from desktop_app.worker_client import WorkerClient, worker_command
from model import protocol
from model.protocol import ErrorCode, WorkerState

PNG = b"\x89PNG fake bytes"


@pytest.fixture
def make_client(qtbot):
    clients = []

    def make(command, **kwargs):
        kwargs.setdefault("backoff_s", (0.05, 0.1, 0.2))
        client = WorkerClient(command, **kwargs)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


def start_ready(client, qtbot):
    with qtbot.waitSignal(
        client.state_changed,
        timeout=15000,
        check_params_cb=lambda state, _d: state == "ready",
    ):
        client.start()


def test_worker_command_shape():
    argv = worker_command("/m", "cpu", 2)
    assert argv[1:3] == ["-m", "model.worker"]
    assert argv[3:] == ["--model", "/m", "--device", "cpu", "--threads", "2"]
    assert "--model" not in worker_command("", "auto", 1)  # bundled model


def test_ready_then_result(make_client, fake_worker, qtbot, tmp_path):
    record = tmp_path / "requests.jsonl"
    client = make_client(fake_worker("--record", str(record)))
    start_ready(client, qtbot)
    assert client.detail == "ready (cpu, float32)"
    with qtbot.waitSignal(client.result_ready, timeout=10000) as result:
        request_id = client.predict(PNG, {"num_beams": 3})
    assert result.args[0] == request_id
    assert result.args[1]["latex"] == r"\frac{a}{b}+1"
    assert client.state is WorkerState.READY
    sent = json.loads(record.read_text().splitlines()[0])
    assert sent["options"] == {"num_beams": 3} and sent["id"] == request_id


def test_request_before_ready_is_queued_latest_wins(make_client, fake_worker, qtbot, tmp_path):
    record = tmp_path / "requests.jsonl"
    client = make_client(fake_worker("--load-delay", "0.5", "--record", str(record)))
    client.start()
    client.predict(PNG)
    with qtbot.waitSignal(client.result_ready, timeout=15000) as result:
        newest = client.predict(PNG)
    assert result.args[0] == newest
    assert len(record.read_text().splitlines()) == 1  # the older one never went out


def test_cancel_drops_the_answer(make_client, fake_worker, qtbot):
    client = make_client(fake_worker("--delay", "1"))
    start_ready(client, qtbot)
    first = client.predict(PNG)
    client.cancel(first)
    with (
        qtbot.assertNotEmitted(client.request_failed),
        qtbot.waitSignal(client.result_ready, timeout=15000) as result,
    ):
        second = client.predict(PNG)
        client.cancel(second)
        third = client.predict(PNG)
    assert result.args[0] == third


def test_worker_error_reaches_the_ui(make_client, fake_worker, qtbot):
    client = make_client(fake_worker("--behaviour", "error"))
    start_ready(client, qtbot)
    with qtbot.waitSignal(client.request_failed, timeout=10000) as failed:
        request_id = client.predict(PNG)
    assert failed.args == [request_id, "internal", "scripted failure"]


def test_garbage_lines_are_ignored(make_client, fake_worker, qtbot):
    client = make_client(fake_worker("--behaviour", "garbage"))
    start_ready(client, qtbot)
    with qtbot.waitSignal(client.result_ready, timeout=10000):
        client.predict(PNG)
    assert client.is_running()


def test_crash_restarts_with_backoff(make_client, fake_worker, qtbot, tmp_path):
    # GIVEN a worker that crashes on its first start only
    counter = tmp_path / "starts"
    client = make_client(fake_worker("--counter", str(counter), "--crash-times", "1"))
    start_ready(client, qtbot)
    # WHEN a request crashes it THEN the request fails and a new worker comes up
    with qtbot.waitSignal(client.request_failed, timeout=10000) as failed:
        client.predict(PNG)
    assert failed.args[1] == "worker_crashed"
    qtbot.waitUntil(lambda: client.state is WorkerState.READY, timeout=15000)
    assert counter.read_text() == "2"
    with qtbot.waitSignal(client.result_ready, timeout=10000):
        client.predict(PNG)


def test_gives_up_after_three_crashes(make_client, fake_worker, qtbot):
    client = make_client([*fake_worker(), "--behaviour", "crash"])
    start_ready(client, qtbot)
    for _ in range(3):
        with qtbot.waitSignal(client.request_failed, timeout=15000):
            client.predict(PNG)
        qtbot.waitUntil(
            lambda: client.state in (WorkerState.READY, WorkerState.ERROR),
            timeout=15000,
        )
    assert client.state is WorkerState.ERROR
    assert "keeps crashing" in client.detail
    with qtbot.waitSignal(client.request_failed, timeout=5000) as failed:
        client.predict(PNG)
    assert failed.args[1] == "worker_unavailable"


def test_deadline_kills_and_restarts(make_client, fake_worker, qtbot):
    client = make_client(fake_worker("--behaviour", "never"), timeout_s=0.5)
    start_ready(client, qtbot)
    pid = client._process.processId()
    with qtbot.waitSignal(client.request_failed, timeout=10000) as failed:
        client.predict(PNG)
    assert failed.args[1] == "timeout"
    qtbot.waitUntil(
        lambda: client.state is WorkerState.READY and client.is_running(), timeout=15000
    )
    assert client._process.processId() != pid


def test_ignored_cancel_is_killed_and_newer_request_resent(
    make_client, fake_worker, qtbot, tmp_path
):
    record = tmp_path / "requests.jsonl"
    client = make_client(
        fake_worker("--behaviour", "never", "--record", str(record)), cancel_grace_s=0.3
    )
    start_ready(client, qtbot)
    old = client.predict(PNG)
    client.cancel(old)
    newer = client.predict(PNG)

    # the grace period expires, the worker is replaced and the newer request re-sent
    def resent() -> bool:
        lines = record.read_text().splitlines() if record.exists() else []
        return sum('"op":"predict"' in line and newer in line for line in lines) == 2

    qtbot.waitUntil(resent, timeout=15000)


def test_missing_model_is_an_error_without_restarts(make_client, fake_worker, qtbot):
    client = make_client(fake_worker("--behaviour", "unavailable"))
    with qtbot.waitSignal(
        client.state_changed,
        timeout=15000,
        check_params_cb=lambda state, _d: state == "error",
    ) as changed:
        client.start()
    assert "no model in /nowhere" in changed.args[1]
    qtbot.waitUntil(lambda: not client.is_running(), timeout=10000)
    qtbot.wait(300)
    assert client.state is WorkerState.ERROR  # no restart loop


def test_program_that_cannot_start(make_client, qtbot):
    client = make_client(["/nonexistent/python"], max_crashes=1)
    with qtbot.waitSignal(
        client.state_changed,
        timeout=10000,
        check_params_cb=lambda state, _d: state == "error",
    ):
        client.start()


def test_close_shuts_the_worker_down(make_client, fake_worker, qtbot):
    client = make_client(fake_worker())
    start_ready(client, qtbot)
    process = client._process
    client.close()
    assert process.state() == QProcess.ProcessState.NotRunning
    assert process.exitCode() == 0  # it obeyed "shutdown", it was not killed


def test_model_load_error_status_fails_requests_at_once(make_client, fake_worker, qtbot):
    # GIVEN a worker that could not load its model but stays up (model.worker's way)
    client = make_client(fake_worker("--behaviour", "load-error"))
    with qtbot.waitSignal(
        client.state_changed,
        timeout=15000,
        check_params_cb=lambda state, _d: state == "error",
    ):
        client.start()
    # WHEN the user snips THEN the request fails with the loader's message, no hang
    with qtbot.waitSignal(client.request_failed, timeout=5000) as failed:
        request_id = client.predict(PNG)
    assert failed.args == [request_id, "worker_unavailable", "no model in /nowhere"]


def test_model_unavailable_reply_reaches_the_request(qtbot):
    # a request already sent when the worker finds its model gone: fail it, go to error
    client = WorkerClient(["unused"])
    client._in_flight["abc"] = (make_timer(client, 60_000, single_shot=True), b"")
    with qtbot.waitSignal(client.request_failed) as failed:
        client._handle_line(protocol.error(ErrorCode.MODEL_UNAVAILABLE, "gone", "abc"))
    assert failed.args == ["abc", "model_unavailable", "gone"]
    assert client.state is WorkerState.ERROR


def test_close_during_a_long_request_still_exits_cleanly(make_client, fake_worker, qtbot):
    client = make_client(fake_worker("--delay", "30"))
    start_ready(client, qtbot)
    client.predict(PNG)
    qtbot.wait(200)  # the worker is now inside the 30 s request
    process = client._process
    client.close()
    assert process.state() == QProcess.ProcessState.NotRunning
    assert process.exitStatus() == QProcess.ExitStatus.NormalExit
    assert process.exitCode() == 0  # cancelled, then shut down: not killed


def test_self_check_fields_and_unknown_keys_reach_the_ui(make_client, fake_worker, qtbot):
    client = make_client(
        fake_worker(
            "--confidence",
            "0.4",
            "--needs-check",
            "--check-reason",
            "differs here",
            "--check-region",
            "0.5,0,1,1",
            "--extra-key",
        )
    )
    start_ready(client, qtbot)
    with qtbot.waitSignal(client.result_ready, timeout=10000) as result:
        client.predict(PNG)
    message = result.args[1]
    assert message["needs_check"] is True and message["check_reason"] == "differs here"
    assert message["check_region"] == [0.5, 0.0, 1.0, 1.0]
    assert message["confidence"] == 0.4


def test_a_late_check_message_follows_the_result(make_client, fake_worker, qtbot):
    client = make_client(
        fake_worker(
            "--needs-check", "--check-reason", "late", "--late-check", "--late-delay", "0.2"
        )
    )
    start_ready(client, qtbot)
    with qtbot.waitSignal(client.result_ready, timeout=10000) as result:
        request_id = client.predict(PNG)
    assert "needs_check" not in result.args[1]
    assert client.state is WorkerState.READY  # the request is done; the check is extra
    with qtbot.waitSignal(client.check_ready, timeout=10000) as check:
        pass
    assert check.args[0] == request_id
    assert check.args[1]["needs_check"] is True and check.args[1]["check_reason"] == "late"


def test_a_blank_image_error_becomes_its_own_code(make_client, fake_worker, qtbot):
    client = make_client(fake_worker("--behaviour", "blank"))
    start_ready(client, qtbot)
    with qtbot.waitSignal(client.request_failed, timeout=10000) as failed:
        client.predict(PNG)
    assert failed.args[1] == "blank_image"
