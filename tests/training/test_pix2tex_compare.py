"""training.evaluate.pix2tex.compare: data loading, glyph scaling, grouping, tables and the
pix2tex process protocol (spoken to tests/fakes/fake_pix2tex.py: neither pix2tex nor
its venv is needed)."""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from training.evaluate.pix2tex import compare as pc
from training.evaluate.pix2tex.env import glyph_scale as gs

FAKE = Path(__file__).resolve().parents[1] / "fakes" / "fake_pix2tex.py"


def glyphs(height: int, count: int = 6, dark: bool = False, tall: int = 0) -> np.ndarray:
    """A grey strip of ``count`` boxes ``height`` px tall (plus one ``tall`` bar)."""
    bg, ink = (30, 220) if dark else (255, 0)
    image = np.full((height * 4 + tall, 20 + 12 * (count + 1)), bg, dtype=np.uint8)
    top = image.shape[0] // 2 - height // 2
    for i in range(count):
        image[top : top + height, 10 + 12 * i : 18 + 12 * i] = ink
    if tall:
        image[2 : 2 + tall, 10 + 12 * count : 14 + 12 * count] = ink
    return image


def dotted(height: int, dots: int) -> np.ndarray:
    """``glyphs(height)`` followed by ``dots`` 2-px dots on its baseline (``\\ldots``)."""
    strip = glyphs(height)
    image = np.full((strip.shape[0], strip.shape[1] + 8 * dots), 255, dtype=np.uint8)
    image[:, : strip.shape[1]] = strip
    baseline = strip.shape[0] // 2 - height // 2 + height
    for i in range(dots):
        x = strip.shape[1] + 8 * i
        image[baseline - 2 : baseline, x : x + 2] = 0
    return image


# ---- glyph scaling ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("image", "height"),
    [
        (glyphs(10), 10.0),
        (glyphs(23), 23.0),
        (glyphs(14, dark=True), 14.0),  # dark theme: ink lighter than the background
        (glyphs(12, count=7, tall=40), 12.0),  # a tall delimiter does not move the quartile
        (dotted(12, dots=5), 12.0),  # nor do dots, as many as the glyphs
        (np.full((30, 40), 255, dtype=np.uint8), None),  # blank
    ],
)
def test_glyph_height(image, height):
    assert gs.glyph_height(image) == height


@pytest.mark.parametrize(
    ("measured", "target", "factor"),
    [(22.0, 11.0, 0.5), (11.0, 11.0, 1.0), (5.5, 11.0, 2.0), (100.0, 11.0, 0.5),
     (1.0, 11.0, 2.0), (16.5, 11.0, 2 / 3), (None, 11.0, 1.0), (0.0, 11.0, 1.0)],
)
def test_scale_factor_brings_glyphs_to_the_target_within_limits(measured, target, factor):
    assert gs.scale_factor(measured, target) == pytest.approx(factor)


def test_scaled_image_has_the_target_glyph_height():
    image = Image.fromarray(glyphs(22)).convert("RGB")
    scaled, factor = gs.scaled_to_glyph_height(image, 11)
    assert factor == pytest.approx(0.5) and scaled.size == (image.width // 2, image.height // 2)
    assert gs.glyph_height(np.asarray(scaled.convert("L"))) == pytest.approx(11, abs=1)
    same, one = gs.scaled_to_glyph_height(image, 22)
    assert one == 1.0 and same is image


def test_column_runs():
    assert gs.column_runs(np.array([0, 1, 1, 0, 1, 0, 0, 1], bool)) == [(1, 3), (4, 5), (7, 8)]
    assert gs.column_runs(np.zeros(4, bool)) == []


# ---- data ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("dpi", "band"),
    [(96, "96-119"), (119, "96-119"), (120, "120-143"), (143, "120-143"), (150, "144-167"),
     (168, "168-192"), (192, "168-192"), (72, "<96"), (300, ">192"), ("130", "120-143")],
)
def test_dpi_band(dpi, band):
    assert pc.dpi_band(dpi) == band


@pytest.mark.parametrize(
    ("text", "band"),
    [("x", "0-39"), ("x" * 39, "0-39"), ("x " * 40, "40-84"), ("x" * 85, "85-124"),
     ("x" * 169, "125-169"), ("x" * 170, "170+"), (r"\frac { a } { b }", "0-39")],
)
def test_length_band_counts_non_space_characters(text, band):
    assert pc.length_band(text) == band


@pytest.mark.parametrize(
    ("count", "chosen"),
    [(None, list(range(10))), (10, list(range(10))), (12, list(range(10))), (5, [0, 2, 4, 6, 8]),
     (3, [0, 3, 6]), (1, [0])],
)
def test_spread_picks_evenly_spaced_items(count, chosen):
    assert pc.spread(list(range(10)), count) == chosen


def _snip(folder: Path, name: str, text: str | None) -> Path:
    png = folder / f"{name}.png"
    png.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(glyphs(10)).save(png)
    if text is not None:
        png.with_suffix(".tex").write_text(text + "\n")
    return png


def test_a_folder_of_pairs_loads_without_a_manifest(tmp_path):
    _snip(tmp_path, "b", r"\beta")
    _snip(tmp_path, "a", r"\alpha")
    _snip(tmp_path, "no-text", None)  # a PNG without .tex is not an example
    examples = pc.load_folder(tmp_path)
    assert [(e.path.name, e.text, e.style) for e in examples] == [
        ("a.png", r"\alpha", {}), ("b.png", r"\beta", {})]


def test_a_manifest_gives_order_text_and_styles(tmp_path):
    _snip(tmp_path / "images", "0", None)
    _snip(tmp_path / "images", "1", r"y")  # text from the .tex when the record has none
    records = [{"file": "images/1.png", "font": "cm", "dpi": 100, "theme": "dark"},
               {"file": "images/0.png", "text": "x", "font": "mathpazo", "dpi": 190,
                "theme": "light", "points": 11}]
    (tmp_path / "devset.jsonl").write_text("\n".join(json.dumps(r) for r in records) + "\n\n")
    examples = pc.load_folder(tmp_path)
    assert [(e.path.name, e.text) for e in examples] == [("1.png", "y"), ("0.png", "x")]
    assert examples[0].style == {"font": "cm", "dpi": "96-119", "theme": "dark",
                                 "length": "0-39"}


@pytest.mark.parametrize(
    ("line", "message"),
    [("not json", "not a record"), ('{"text": "x"}', "not a record"),
     ('{"file": "gone.png", "text": "x"}', "no image"),
     ('{"file": "images/0.png"}', "no text")],
)
def test_bad_manifests_are_clear_errors(tmp_path, line, message):
    _snip(tmp_path / "images", "0", None)
    (tmp_path / "meta.jsonl").write_text(line + "\n")
    with pytest.raises(pc.CompareError, match=message):
        pc.load_folder(tmp_path)


# ---- grouping and tables ------------------------------------------------------------


def test_groups_only_keys_every_example_has_sorted_numerically():
    styles = [{"font": "cm", "dpi": "144-167"}, {"font": "mathptmx", "dpi": "96-119"},
              {"font": "cm", "dpi": "120-143", "theme": "dark"}]
    assert pc.group_indices(styles) == {
        "font": {"cm": [0, 2], "mathptmx": [1]},
        "dpi": {"96-119": [1], "120-143": [2], "144-167": [0]},
    }
    assert pc.group_indices([{}, {}]) == {}


def test_score_runs_overall_and_per_style():
    examples = [pc.Example(Path("a.png"), r"\frac{a}{b}", {"theme": "light"}),
                pc.Example(Path("b.png"), "x^2", {"theme": "dark"})]
    runs = [{"name": "right", "texts": [r"\frac { a } { b }", "x ^ 2"], "seconds": [0.1, 0.3]},
            {"name": "half", "texts": [r"\frac{a}{b}", "y"], "seconds": [1.0, 2.0]}]
    scores = pc.score_runs(runs, examples)
    assert scores["overall"]["right"]["exact_match"] == 1.0  # spacing-insensitive
    assert scores["overall"]["half"]["exact_match"] == 0.5
    assert scores["overall"]["half"]["s_p50"] == 1.5
    assert scores["overall"]["half"]["cpu_s_mean"] != scores["overall"]["half"]["cpu_s_mean"]  # nan
    dark = scores["per_style"]["theme"]["dark"]
    assert dark["right"]["count"] == 1 and dark["half"]["exact_match"] == 0.0


@pytest.mark.parametrize(
    ("scores", "row"),
    [({"count": 360, "bleu": 0.81849, "edit_distance": 0.0944, "exact_match": 0.2917,
       "s_p50": 1.234, "s_mean": 1.5, "cpu_s_mean": 2.46},
      "| p | 360 | 0.818 | 0.094 | 29.2 % | 1.23 | 1.50 | 2.46 |"),
     ({"count": 1, "bleu": 0.0, "edit_distance": 1.0, "exact_match": 0.0, "s_p50": 0.0,
       "s_mean": 0.0}, "| p | 1 | 0.000 | 1.000 | 0.0 % | 0.00 | 0.00 | nan |")],
)
def test_overall_table_rows(scores, row):
    lines = pc.overall_table({"p": scores}).splitlines()
    assert lines[0].startswith("| system | images | BLEU-4") and lines[2] == row


def test_style_table_has_one_column_per_system():
    cell = {"count": 4, "bleu": 0.5, "edit_distance": 0.125, "exact_match": 0.25}
    table = pc.style_table("font", {"cm": {"a": cell, "b": {**cell, "exact_match": 1.0}}})
    assert table.splitlines() == ["| font | images | a: ED / exact | b: ED / exact |",
                                  "|---|---|---|---|", "| cm | 4 | 0.125 / 25 % | 0.125 / 100 % |"]


# ---- the process protocol -----------------------------------------------------------


def fake(behaviour: str = "ok") -> list[str]:
    return [sys.executable, str(FAKE), "--behaviour", behaviour]


def test_protocol_round_trip_and_errors(tmp_path):
    png = _snip(tmp_path, "a", r"\alpha")
    worker = pc.Pix2TexProcess(fake("garbage"), timeout_s=20)  # stray prints are skipped
    try:
        assert worker.versions == {"pix2tex": "fake"}
        assert worker.read(png)["latex"] == "x"
        scaled = worker.read(png, glyph_px=11)
        assert scaled["latex"] == r"\alpha" and scaled["scale"] == pytest.approx(1.1)
        assert "FileNotFoundError" in worker.read(tmp_path / "gone.png")["error"]
    finally:
        worker.close()
    assert worker.process.returncode == 0  # closing stdin ends it


def test_a_worker_that_cannot_load_is_a_clear_error():
    with pytest.raises(pc.CompareError, match="did not start: FileNotFoundError"):
        pc.Pix2TexProcess(fake("fatal"), timeout_s=20)


def test_a_worker_that_dies_mid_run_is_a_clear_error(tmp_path):
    png = _snip(tmp_path, "a", "a")
    worker = pc.Pix2TexProcess(fake("die"), timeout_s=20)
    try:
        worker.read(png)
        with pytest.raises(pc.CompareError, match="exited"):
            worker.read(png)
    finally:
        worker.close()


def test_thread_env_limits_threads_and_keeps_our_path_out(monkeypatch):
    monkeypatch.setenv("PYTHONPATH", "/somewhere")
    monkeypatch.setenv("OMP_WAIT_POLICY", "PASSIVE")
    env = pc.thread_env(3)
    assert env["OMP_NUM_THREADS"] == env["MKL_NUM_THREADS"] == "3"
    assert "OMP_WAIT_POLICY" not in env  # OpenMP's own policy, as users run both systems
    assert pc.thread_env(3, passive_wait=True)["OMP_WAIT_POLICY"] == "PASSIVE"
    assert "PYTHONPATH" not in env and env["HF_HUB_OFFLINE"] == "1"


def test_whole_command_with_a_fake_pix2tex_and_the_bundled_model(tmp_path, capsys):
    data = tmp_path / "snips"
    data.mkdir()
    for name, text in (("0", "x"), ("1", r"\alpha")):
        image = Image.new("RGB", (160, 50), "white")
        ImageDraw.Draw(image).text((20, 15), text, fill="black")
        image.save(data / f"{name}.png")
        (data / f"{name}.tex").write_text(text)
    (data / "meta.jsonl").write_text(
        '{"file": "0.png", "font": "cm", "dpi": 100, "theme": "light"}\n'
        '{"file": "1.png", "font": "cm", "dpi": 150, "theme": "dark"}\n')
    out = tmp_path / "report.json"
    code = pc.main(["--data", str(data), "--threads", "1", "--out", str(out),
                    "--pix2tex-command", shlex.join(fake())])
    assert code == 0
    report = json.loads(out.read_text())
    names = list(report["scores"]["overall"])
    assert names[0].startswith("snaptex") and names[1:] == [
        "pix2tex (as it comes)", "pix2tex (glyphs scaled to 14 px)"]
    assert report["scores"]["overall"][names[2]]["exact_match"] == 1.0  # the fake's .tex
    assert report["scores"]["overall"][names[1]]["exact_match"] == 0.5  # "x" right once
    assert report["scores"]["overall"][names[1]]["cpu_s_mean"] == 0.002  # as the fake says
    assert report["scores"]["overall"][names[0]]["cpu_s_mean"] > 0
    assert set(report["scores"]["per_style"]) == {"font", "dpi", "theme", "length"}
    assert report["examples"][1]["text"] == r"\alpha"
    assert "| theme | images |" in capsys.readouterr().out


def test_two_models_without_pix2tex_read_the_same_images_in_one_run(tmp_path, capsys):
    data = tmp_path / "snips"
    data.mkdir()
    image = Image.new("RGB", (160, 50), "white")
    ImageDraw.Draw(image).text((20, 15), "x", fill="black")
    image.save(data / "0.png")
    (data / "0.tex").write_text("x")
    out = tmp_path / "report.json"
    code = pc.main(["--data", str(data), "--threads", "1", "--out", str(out), "--no-pix2tex",
                    "--model", "model/bundled", "model/bundled"])
    assert code == 0
    report = json.loads(out.read_text())
    assert list(report["scores"]["overall"]) == [
        "snaptex (model/bundled)", "snaptex (model/bundled #2)"]
    assert report["pix2tex_versions"] is None
    assert "pix2tex" not in capsys.readouterr().out.split("report:")[0]


@pytest.mark.parametrize(
    ("models", "labels"),
    [([None], [None]), (["a"], [None]), (["a", "b"], ["a", "b"]),
     (["a", "a", "b"], ["a", "a #2", "b"]), (["old=x/y", "new=x/z"], ["old", "new"]),
     (["old=x/y"], ["old"]),
     (["runs/a=b", "c"], ["runs/a=b", "c"])],  # a folder with "=" in its path
)
def test_model_labels_are_unique(models, labels):
    assert pc.model_labels(models) == labels


def test_a_missing_data_folder_is_a_clear_error(tmp_path, capsys):
    code = pc.main(["--data", str(tmp_path / "nowhere"), "--out", str(tmp_path / "r.json"),
                    "--pix2tex-command", shlex.join(fake())])
    assert code == 1 and "no data folder" in capsys.readouterr().err
