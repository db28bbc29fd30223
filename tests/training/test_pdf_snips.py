"""The PDF-snip training builder: which formulas it may typeset (never the dev set's,
never an evaluation split's), and a real build that a recipe can read and a rerun resumes."""

from __future__ import annotations

import io
import json
import shutil

import pyarrow.parquet as pq
import pytest
from PIL import Image

from training.data import devset, pdf_snips
from training.render.formulas import formula_key, is_validation


def write_sources(root, formulas):
    for source in pdf_snips.SOURCES:
        (root / source).mkdir(parents=True)
        (root / source / "formulas.txt").write_text("\n".join(formulas) + "\n")


def test_training_formulas_are_the_train_hash_split_minus_evaluation_formulas(tmp_path):
    candidates = [f"x_{{{i}}}+y^{{{i}}}=z" for i in range(3000)]
    write_sources(tmp_path, candidates)
    train = [f for f in candidates if not is_validation(f, devset.VALIDATION_FRACTION)]
    excluded = {formula_key(train[0])}  # an im2latex test formula
    chosen = [f for _, f in pdf_snips.training_formulas(tmp_path, excluded, seed=0)]
    assert sorted(chosen) == sorted(train[1:])  # each once, though four lists hold it
    dev = [f for _, f in devset.held_out_formulas(tmp_path, tmp_path / "none", seed=0)]
    assert dev and not set(dev) & set(chosen)  # the dev set's formulas are never trained on


@pytest.mark.parametrize(
    ("formula", "kept"),
    [
        ("x+y=z_{1}", True),
        ("x", False),  # a fragment, not a display equation
        ("a" * 401, False),  # longer than any snip the dev set draws
        (r"\input{secret}", False),  # refused by the renderer's precheck
    ],
)
def test_training_formulas_keep_display_equations_the_renderer_accepts(tmp_path, formula, kept):
    if is_validation(formula, devset.VALIDATION_FRACTION):
        pytest.skip("formula falls in the validation hash split")
    write_sources(tmp_path, [formula])
    chosen = [f for _, f in pdf_snips.training_formulas(tmp_path, set(), seed=0)]
    assert chosen == ([formula] if kept else [])


def test_a_build_with_other_settings_is_refused(tmp_path, capsys):
    write_sources(tmp_path / "formulas", ["x+y=z_{1}"])
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / pdf_snips.SETTINGS_FILE).write_text(json.dumps({"count": 99}))
    code = pdf_snips.main(["--out", str(tmp_path / "out"), "--count", "1",
                           "--formulas", str(tmp_path / "formulas"), "--exclude"])
    assert code == 2
    assert "other settings" in capsys.readouterr().err


def test_a_lengths_like_split_without_formulas_is_a_clear_error(tmp_path, capsys):
    write_sources(tmp_path / "formulas", ["x+y=z_{1}"])
    (tmp_path / "split").mkdir()
    code = pdf_snips.main(["--out", str(tmp_path / "out"), "--count", "1", "--exclude",
                           "--formulas", str(tmp_path / "formulas"),
                           "--lengths-like", str(tmp_path / "split")])
    assert code == 2
    assert "no formulas in" in capsys.readouterr().err


MISSING = [tool for tool in ("pdflatex", "pdftoppm") if shutil.which(tool) is None]


@pytest.mark.skipif(bool(MISSING), reason=f"{' and '.join(MISSING)} not installed (apt-get "
                    "install texlive-latex-base texlive-fonts-recommended poppler-utils)")
def test_a_real_build_writes_shards_a_rerun_keeps(tmp_path, capsys):
    formulas = [f"\\frac{{a_{{{i}}}}}{{b}}+\\sqrt{{x}}=y_{{{i}}}" for i in range(40)]
    formulas = [f for f in formulas if not is_validation(f, devset.VALIDATION_FRACTION)][:6]
    write_sources(tmp_path / "formulas", [*formulas, r"\frac{1}{"])  # one LaTeX refuses
    out = tmp_path / "out"
    argv = ["--out", str(out), "--count", "7", "--shard-size", "4", "--exclude",
            "--formulas", str(tmp_path / "formulas")]
    assert pdf_snips.main(argv) == 0
    shards = sorted((out / "train").glob("*.parquet"))
    assert [s.name for s in shards] == ["00000.parquet", "00001.parquet"]
    rows = [row for shard in shards for row in pq.read_table(shard).to_pylist()]
    assert sorted(row["text"] for row in rows) == sorted(formulas)  # the bad one dropped
    for row in rows:
        image = Image.open(io.BytesIO(row["image"]["bytes"]))
        assert image.mode == "RGB" and image.height >= 10 and image.width > image.height
    assert json.loads(capsys.readouterr().out.splitlines()[-1])["rendered"] == 6
    stamp = shards[0].stat().st_mtime_ns
    assert pdf_snips.main(argv) == 0  # resumed: nothing left to render
    assert json.loads(capsys.readouterr().out.splitlines()[-1])["rendered"] == 0
    assert shards[0].stat().st_mtime_ns == stamp
