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
    assert [r["file"] for r in records] == [str(good), str(text), str(empty),
                                           str(good.parent / "missing.png")]
    assert {"latex", "seconds"} <= records[0].keys()
    assert all("error" in r for r in records[1:])
    assert b"Traceback" not in done.stderr


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
    for name in ("ocr", "worker", "train", "eval", "snip"):
        assert f"  {name}" in text
