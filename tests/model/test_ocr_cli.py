"""``snaptex ocr`` as a user runs it: a real subprocess, one model for the batch."""

import json
import subprocess
import sys

import images_factory as f
import pytest
from worker_client import REPO

from model.ocr import wrap


def run(*args, stdin=None):
    return subprocess.run([sys.executable, "-m", "desktop_app", "ocr", *args], cwd=REPO,
                          capture_output=True, input=stdin, timeout=300)


@pytest.fixture(scope="module")
def images(tmp_path_factory):
    folder = tmp_path_factory.mktemp("ocr")
    good = folder / "eq.png"
    good.write_bytes(f.encode(f.equation()))
    text = folder / "notes.png"
    text.write_text("not an image")
    empty = folder / "empty.png"
    empty.write_bytes(b"")
    return good, text, empty


def test_json_batch_mixed_inputs(tiny_model_dir, images):
    good, text, empty = images
    done = run("--model", str(tiny_model_dir), "--json", "--max-new-tokens", "5",
               str(good), str(text), str(empty), str(good.parent / "missing.png"))
    assert done.returncode == 1
    records = [json.loads(line) for line in done.stdout.decode().splitlines()]
    # Refused inputs are reported first, before the model loads; then the good ones.
    assert [r["file"] for r in records] == [str(text), str(empty),
                                           str(good.parent / "missing.png"), str(good)]
    assert {"latex", "seconds"} <= records[-1].keys()
    assert all("error" in r for r in records[:-1])
    assert b"Traceback" not in done.stderr


def bad_inputs(folder):
    """Every kind of input refused before a model loads, with today's messages."""
    text = folder / "notes.png"
    text.write_text("not an image")
    empty = folder / "empty.png"
    empty.write_bytes(b"")
    return {
        str(folder / "missing.png"): f"no such file: {folder / 'missing.png'}",
        str(empty): "the image is empty (0 bytes)",
        str(folder): f"is a directory, not an image: {folder}",
        str(text): "not an image file (unrecognised format)",
    }


@pytest.fixture
def loads(monkeypatch):
    """Calls of the model loader; the loader itself must never run in these tests."""
    calls = []

    def loader(*args, **kwargs):
        calls.append(args)
        raise AssertionError("the model was loaded")

    monkeypatch.setattr("model.loading.load_recognizer", loader)
    return calls


def test_bad_inputs_alone_never_load_the_model(tmp_path, loads, capsys):
    from model import ocr

    bad = bad_inputs(tmp_path)
    assert ocr.main(list(bad)) == 1
    assert loads == []
    lines = capsys.readouterr().err.splitlines()
    assert lines == [f"snaptex ocr: {path}: {message}" for path, message in bad.items()]


@pytest.mark.parametrize(("data", "message"), [
    (b"", "the image is empty (0 bytes)"),
    (b"not an image", "not an image file (unrecognised format)"),
])
def test_bad_stdin_never_loads_the_model(data, message, loads, capsys, monkeypatch):
    import io

    from model import ocr

    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(data)))
    assert ocr.main(["-"]) == 1 and loads == []
    assert capsys.readouterr().err == f"snaptex ocr: -: {message}\n"


def test_checked_stdin_is_still_there_to_be_read(monkeypatch):
    import io

    from model import ocr
    from model.images import open_image_file

    png = f.encode(f.equation())
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(png)))
    assert ocr.refused_inputs(["-"]) == {}
    assert open_image_file("-").size == f.equation().size


def test_bad_inputs_are_json_records_too(tmp_path, loads, capsys):
    from model import ocr

    bad = bad_inputs(tmp_path)
    assert ocr.main(["--json", *bad]) == 1 and loads == []
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert {r["file"]: r["error"] for r in records} == bad
    assert {r["code"] for r in records} == {"bad_image"}


def test_bad_inputs_are_reported_before_the_model_loads(tmp_path, monkeypatch, capsys):
    from model import ocr

    (tmp_path / "bad").mkdir()
    bad = bad_inputs(tmp_path / "bad")
    good = tmp_path / "eq.png"
    good.write_bytes(f.encode(f.equation()))
    seen_before_load = []

    def loader(*args, **kwargs):
        seen_before_load.append(capsys.readouterr().err)
        raise ocr.SnapTexError("stop here")

    monkeypatch.setattr("model.loading.load_recognizer", loader)
    assert ocr.main([*bad, str(good)]) == 2
    assert len(seen_before_load) == 1
    assert all(message in seen_before_load[0] for message in bad.values())


def test_stdin_and_format(tiny_model_dir, images):
    outputs = {}
    for fmt in ("raw", "inline"):
        done = run("--model", str(tiny_model_dir), "--format", fmt, "--max-new-tokens", "12",
                   "-", stdin=images[0].read_bytes())
        assert done.returncode == 0, done.stderr
        outputs[fmt] = done.stdout.decode().removesuffix("\n")
    # Greedy decoding is deterministic, so the formats differ only by their delimiters.
    assert outputs["inline"] == wrap(outputs["raw"], "inline")


def test_missing_model_is_one_line(images):
    done = run("--model", "/no/such/model", str(images[0]))
    assert done.returncode == 2
    assert done.stderr.decode().strip() == "snaptex ocr: model folder not found: /no/such/model"


@pytest.mark.parametrize(("fmt", "expected"), [
    ("raw", "x"), ("inline", "$x$"), ("paren", "\\(x\\)"), ("display", "\\[x\\]"),
    ("equation", "\\begin{equation*}\nx\n\\end{equation*}"),
    ("inline", ""),  # nothing recognised: nothing to paste, not "$$"
])
def test_wrap(fmt, expected):
    assert wrap("x" if expected else "", fmt) == expected


def test_help_reads_well():
    done = subprocess.run([sys.executable, "-m", "desktop_app", "--help"], cwd=REPO,
                          capture_output=True, timeout=60)
    text = done.stdout.decode()
    assert done.returncode == 0
    for name in ("app", "ocr", "worker", "train", "eval", "render", "bench", "snip"):
        assert f"  {name}" in text
    # The app's settings flags, in the spelling every command uses, and the exit codes.
    for flag in ("--model MODEL", "--format", "--beams", "--max-new-tokens", "--device",
                 "--threads", "--seed-settings", "--capture", "--from-clipboard"):
        assert flag in text
    assert "--num-beams" not in text and "--output-format" not in text
    assert "exit status" in text and "  2    usage error" in text
