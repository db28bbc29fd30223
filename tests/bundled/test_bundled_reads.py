r"""The shipped model/bundled/ reads simple rendered equations exactly, in float32 and,
where the CPU runs bf16 natively, in bfloat16.

The images in ``data/`` were rendered once with real LaTeX (Computer Modern, 120 and
160 dpi, black on white) by ``training.render.latex``; each ``.tex`` file holds the
expected canonical LaTeX. All 12 pass since the encoder's CTC head takes part in decoding
(beam search alone reads ``e^{i\pi}+1=0`` at 120 dpi as ``e^{i\pi+1}=0``), and in bf16
since the decoder's logits are computed in float32 (model/float32_logits.py).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

DATA = Path(__file__).parent / "data"
CASES = sorted(DATA.glob("*.png"))
# Two-row aligned blocks (pdflatex, Computer Modern, 144 dpi, loose margins): read whole
# on the 64-px canvas, two of the three come back wrong; row by row all three are exact.
BLOCKS = sorted((DATA / "rows").glob("*.png"))
# LaTeX defines each left-hand command as the right-hand one (\let\ge=\geq): the same
# glyph, so no image can say which the author typed.
SAME_COMMAND = {r"\ge": r"\geq", r"\le": r"\leq", r"\ne": r"\neq"}


def same_command_tokens(latex: str) -> list[str]:
    from model.postprocess import latex_tokens

    return [SAME_COMMAND.get(t, t) for t in latex_tokens(latex)]


def _dtypes():
    from model.cpu_exec import cpu_supports_bf16

    bf16 = pytest.param("bfloat16", marks=pytest.mark.skipif(
        not cpu_supports_bf16(), reason="this CPU has no native bf16 (AVX512-BF16 or AMX)"))
    return ["float32", bf16]


@pytest.fixture(scope="module", params=_dtypes())
def recognizer(request):
    from model.loading import load_recognizer

    # None = model/bundled/
    return load_recognizer(None, device="cpu", dtype=request.param, threads=2)


def test_the_bundled_model_is_a_small_vision_encoder_decoder(recognizer):
    assert recognizer.info.model_type == "vision-encoder-decoder"
    assert recognizer.info.parameters < 30_000_000


@pytest.mark.parametrize("image_path", CASES, ids=[p.stem for p in CASES])
def test_reads_simple_equation_exactly(recognizer, image_path):
    expected = image_path.with_suffix(".tex").read_text().strip()
    prediction = recognizer.recognize(Image.open(image_path))
    assert prediction.latex == expected


def test_the_decoder_stays_tied_to_its_embeddings(recognizer):
    decoder = recognizer.model.decoder
    assert decoder.get_output_embeddings().weight is decoder.get_input_embeddings().weight


@pytest.mark.parametrize("image_path", BLOCKS, ids=[p.stem for p in BLOCKS])
def test_reads_an_aligned_block_row_by_row(recognizer, image_path):
    expected = image_path.with_suffix(".tex").read_text().strip()
    prediction = recognizer.recognize(Image.open(image_path))
    assert "rows" in prediction.timings_ms  # it went through model/layout
    assert same_command_tokens(prediction.latex) == same_command_tokens(expected)
