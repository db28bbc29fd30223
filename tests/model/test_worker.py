"""The worker over a real subprocess: round trips, bad input, cancel, protocol hygiene."""

import subprocess
import sys

import images_factory as f
import pytest
from worker_client import REPO, WorkerProcess

from model import protocol

OPTIONS = {"max_new_tokens": 6}


@pytest.fixture(scope="module")
def worker(tiny_model_dir):
    process = WorkerProcess("--model", str(tiny_model_dir), "--threads", "1")
    ready = process.wait_ready()
    assert ready["state"] == "ready", ready
    yield process
    process.send(protocol.shutdown())
    assert process.close() == 0


def test_ready_status_describes_the_model(tiny_model_dir):
    process = WorkerProcess("--model", str(tiny_model_dir), "--device", "cpu")
    first = process.read()
    assert (first["type"], first["state"]) == ("status", "loading")
    ready = process.wait_ready()
    assert ready["model_type"] == "t5gemma2" and ready["device"] == "cpu"
    assert ready["load_s"] > 0
    process.send(protocol.shutdown())
    assert process.close() == 0


def test_predict_round_trip(worker):
    worker.send(protocol.predict("r1", f.encode(f.equation()), OPTIONS))
    reply = worker.read()
    assert reply["type"] == "result" and reply["id"] == "r1"
    assert isinstance(reply["latex"], str) and 1 <= reply["n_tokens"] <= 6
    assert reply["timings_ms"]["total"] >= reply["timings_ms"]["generate"] > 0


def test_ping(worker):
    worker.send(protocol.ping("p"))
    assert worker.read() == {"v": 1, "type": "pong", "id": "p"}


@pytest.mark.parametrize(
    "name", ["empty", "text_named_png", "truncated_png", "bomb_30000", "all_white"]
)
def test_bad_images_get_typed_errors_and_worker_survives(worker, name):
    worker.send(protocol.predict(name, f.bad_input(name), OPTIONS))
    reply = worker.read()
    assert reply["type"] == "error" and reply["id"] == name
    assert reply["code"] == f.BAD_INPUTS[name][1]
    assert "\n" not in reply["message"] and "Traceback" not in reply["message"]
    worker.send(protocol.ping("alive"))
    assert worker.read()["type"] == "pong"


@pytest.mark.parametrize("data", [f.sixteen_bit(), f.cmyk_jpeg(), f.animated_gif(),
                                  f.transparent_png(), f.transparent_png("white")],
                         ids=["16bit", "cmyk", "gif", "transparent", "transparent-dark"])
def test_awkward_images_are_recognised(worker, data):
    worker.send(protocol.predict("ok", data, OPTIONS))
    assert worker.read()["type"] == "result"


@pytest.mark.parametrize(("line", "code"), [
    (b"not json\n", "bad_request"),
    (b'{"v":9,"op":"ping","id":"x"}\n', "bad_request"),
    (b'{"v":1,"op":"teleport","id":"x"}\n', "bad_request"),
    (protocol.predict("o", f.encode(f.equation()), {"num_beams": 99}), "bad_request"),
])
def test_bad_requests(worker, line, code):
    worker.send(line)
    reply = worker.read()
    assert (reply["type"], reply["code"]) == ("error", code)


def test_cancel_running_request(worker):
    worker.send(protocol.predict("long", f.encode(f.equation()), {"max_new_tokens": 2000}))
    worker.send(protocol.cancel("long"))
    reply = worker.read()
    assert (reply["id"], reply["code"]) == ("long", "cancelled")


def test_cancel_before_start(worker):
    worker.send(protocol.predict("a", f.encode(f.equation()), {"max_new_tokens": 400}))
    worker.send(protocol.predict("b", f.encode(f.equation()), OPTIONS))
    worker.send(protocol.cancel("b"))
    worker.send(protocol.cancel("a"))
    replies = {r["id"]: r for r in (worker.read(), worker.read())}
    assert replies["a"]["code"] == "cancelled" and replies["b"]["code"] == "cancelled"


@pytest.mark.parametrize("setup", ["missing", "pickle", "corrupt"])
def test_broken_model_folder_keeps_worker_up(tmp_path, tiny_model_dir, setup):
    import shutil

    folder = tmp_path / "m"
    if setup != "missing":
        shutil.copytree(tiny_model_dir, folder)
        weights = folder / "model.safetensors"
        if setup == "pickle":
            weights.rename(folder / "pytorch_model.bin")
        else:
            weights.write_bytes(b"\x00" * 100)
    process = WorkerProcess("--model", str(folder))
    status = process.wait_ready()
    assert status["state"] == "error" and "\n" not in status["message"]
    process.send(protocol.predict("x", f.encode(f.equation())))
    reply = process.read()
    assert reply["code"] == "model_unavailable"
    process.send(protocol.ping("p"))
    assert process.read()["type"] == "pong"
    process.send(protocol.shutdown())
    assert process.close() == 0


def test_library_output_cannot_corrupt_protocol():
    code = (
        "import os\n"
        "from model.worker import reserve_stdout\n"
        "channel = reserve_stdout()\n"
        "print('python noise')\n"
        "os.write(1, b'C-level noise\\n')\n"
        "channel.write(b'{\"v\":1}\\n')\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, timeout=60)
    assert done.stdout == b'{"v":1}\n'
    assert b"python noise" in done.stderr and b"C-level noise" in done.stderr


@pytest.mark.parametrize("colour", ["black", "white"])
def test_one_pixel_image_is_answered_cleanly(worker, colour):
    from PIL import Image

    worker.send(protocol.predict("px", f.encode(Image.new("RGB", (1, 1), colour)), OPTIONS))
    reply = worker.read()
    assert reply["type"] == "result" or (
        reply["code"] == "bad_image" and "blank" in reply["message"])


def test_a_blank_snip_is_a_bad_image_with_reason_blank(worker):
    from PIL import Image

    worker.send(protocol.predict("b", f.encode(Image.new("RGB", (240, 80), "white")), OPTIONS))
    reply = worker.read()
    assert (reply["type"], reply["code"], reply["reason"]) == ("error", "bad_image", "blank")


def test_other_bad_images_carry_no_reason(worker):
    worker.send(protocol.predict("t", b"not an image at all", OPTIONS))
    reply = worker.read()
    assert reply["code"] == "bad_image" and "reason" not in reply


def test_the_worker_warms_up_after_ready_and_then_serves(tiny_model_dir):
    process = WorkerProcess("--model", str(tiny_model_dir), "--threads", "1",
                            log_level="INFO")
    assert process.wait_ready()["state"] == "ready"
    process.send(protocol.predict("first", f.encode(f.equation()), OPTIONS))
    assert process.read()["type"] == "result"
    process.send(protocol.shutdown())
    assert process.close() == 0
    log = b"".join(process._log).decode()
    assert "warm-up recognition:" in log and "warm-up recognition failed" not in log


def test_a_failed_warm_up_is_logged_and_harmless(caplog):
    import argparse

    from model.worker import Worker

    class Broken:
        def warm_up(self):
            raise RuntimeError("no kernels today")

    worker = Worker(channel=None, args=argparse.Namespace())
    worker.recognizer = Broken()
    with caplog.at_level("WARNING", logger="model.worker"):
        worker.warm_up()  # does not raise
    assert "warm-up recognition failed" in caplog.text


def test_recognizer_warm_up_is_one_short_recognition(tiny_model_dir):
    from model.loading import load_recognizer
    from model.options import DEFAULT_BEAMS

    recognizer = load_recognizer(tiny_model_dir, device="cpu", threads=1)
    calls = []
    original = recognizer.recognize
    recognizer.recognize = lambda image, options=None: calls.append(options) or original(
        image, options)
    assert recognizer.warm_up() > 0
    (options,) = calls
    assert options.max_new_tokens == 8 and options.num_beams == DEFAULT_BEAMS
