"""im2latex-100k's look: the finishing step on its own (a table), and real builds of
training shards and a dev set in that look."""

from __future__ import annotations

import io
import json
import shutil

import numpy as np
import pyarrow.parquet as pq
import pytest
from PIL import Image

from training.data import devset, im2latex_look, pdf_snips
from training.render.formulas import is_validation


def ink_box(image: Image.Image, level: int = 128) -> tuple[int, int, int, int] | None:
    return Image.fromarray((np.asarray(image.convert("L")) < level).astype(np.uint8) * 255
                           ).getbbox()


@pytest.mark.parametrize(
    ("crop_size", "finished_size"),
    [
        ((40, 20), (28, 18)),  # 8 px of white each side, then halved
        ((41, 21), (28, 18)),  # odd sizes round down, as the data set's halving does
        ((1, 1), (8, 8)),
        ((600, 90), (308, 53)),
    ],
)
def test_finish_pads_then_halves(crop_size, finished_size):
    grey = Image.new("L", crop_size, 0)  # all ink: a tight crop has ink at its edges
    finished = im2latex_look.finish(grey)
    assert finished.mode == "RGB" and finished.size == finished_size


def test_finish_keeps_the_ink_centred_in_a_white_border():
    grey = Image.new("L", (60, 30), 255)
    grey.paste(0, (0, 0, 60, 30))
    finished = im2latex_look.finish(grey)
    assert finished.getpixel((0, 0)) == (255, 255, 255)
    assert ink_box(finished) == (4, 4, 34, 19)  # the 8 px border, halved


MISSING = [tool for tool in ("pdflatex", "pdftoppm") if shutil.which(tool) is None]
needs_latex = pytest.mark.skipif(
    bool(MISSING), reason=f"{' and '.join(MISSING)} not installed (apt-get install "
    "texlive-latex-base texlive-fonts-recommended poppler-utils)")


def train_split_formulas(count: int) -> list[str]:
    formulas = [f"\\frac{{a_{{{i}}}}}{{b}}+\\sqrt{{x}}=y_{{{i}}}" for i in range(60)]
    return [f for f in formulas if not is_validation(f, devset.VALIDATION_FRACTION)][:count]


def write_sources(root, sources, formulas):
    for source in sources:
        (root / source).mkdir(parents=True)
        (root / source / "formulas.txt").write_text("\n".join(formulas) + "\n")


@needs_latex
def test_training_shards_in_the_look_are_ten_point_computer_modern_at_100_dpi(tmp_path):
    formulas = train_split_formulas(3)
    write_sources(tmp_path / "formulas", pdf_snips.SOURCES, formulas)
    out = tmp_path / "out"
    argv = ["--out", str(out), "--count", "3", "--exclude", "--look", "im2latex",
            "--formulas", str(tmp_path / "formulas")]
    assert pdf_snips.main(argv) == 0
    rows = pq.read_table(out / "train" / "00000.parquet").to_pylist()
    assert sorted(row["text"] for row in rows) == sorted(formulas)
    for row in rows:
        image = Image.open(io.BytesIO(row["image"]["bytes"]))
        left, top, right, bottom = ink_box(image)
        assert image.getpixel((0, 0)) == (255, 255, 255)  # no theme, no margin drawn
        assert (left, top) in {(3, 3), (3, 4), (4, 3), (4, 4)}  # 8 px at 200 DPI, halved
        # 10 pt at 100 DPI: a fraction of one-line parts stands about 2.5x the x-height.
        assert 18 <= bottom - top <= 32
    settings = json.loads((out / pdf_snips.SETTINGS_FILE).read_text())
    assert settings["look"] == "im2latex"
    # The same folder cannot be resumed in the other look: the images would differ.
    assert pdf_snips.main(argv[:-4] + ["--formulas", str(tmp_path / "formulas")]) == 2


@needs_latex
def test_a_dev_set_in_the_look_records_it(tmp_path):
    formulas = [f"\\frac{{a_{{{i}}}}}{{b}}+\\sqrt{{x}}=y_{{{i}}}" for i in range(400)]
    held = [f for f in formulas if is_validation(f, devset.VALIDATION_FRACTION)][:2]
    assert held, "no formula of the validation hash split among the candidates"
    write_sources(tmp_path / "formulas", devset.SOURCES, held)
    out = tmp_path / "dev"
    assert devset.main(["--out", str(out), "--n", "2", "--look", "im2latex",
                        "--formulas", str(tmp_path / "formulas"),
                        "--im2latex", str(tmp_path / "none")]) == 0
    records = devset.read_devset(out)
    assert sorted(r["text"] for r in records) == sorted(held)
    for record in records:
        assert (record["font"], record["points"], record["dpi"], record["theme"]) == (
            "cm", 10, 100, "light")
        assert record["source"] in devset.SOURCES
        assert Image.open(out / record["file"]).mode == "RGB"
