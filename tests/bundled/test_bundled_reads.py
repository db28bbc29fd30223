r"""The shipped model/bundled/ reads simple rendered equations exactly.

The images in ``data/`` were rendered once with real LaTeX (Computer Modern, 120 and
160 dpi, black on white) by ``training.render.latex``; each ``.tex`` file holds the
expected canonical LaTeX. All 12 pass because the encoder's CTC head takes part in
decoding (beam search alone reads ``e^{i\pi}+1=0`` at 120 dpi as ``e^{i\pi+1}=0``), so
it runs by default.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

DATA = Path(__file__).parent / "data"
CASES = sorted(DATA.glob("*.png"))


@pytest.fixture(scope="module")
def recognizer():
    from model.loading import load_recognizer

    return load_recognizer(None, device="cpu", threads=2)  # None = model/bundled/


def test_the_bundled_model_is_a_small_vision_encoder_decoder(recognizer):
    assert recognizer.info.model_type == "vision-encoder-decoder"
    assert recognizer.info.parameters < 30_000_000


@pytest.mark.parametrize("image_path", CASES, ids=[p.stem for p in CASES])
def test_reads_simple_equation_exactly(recognizer, image_path):
    expected = image_path.with_suffix(".tex").read_text().strip()
    prediction = recognizer.recognize(Image.open(image_path))
    assert prediction.latex == expected
