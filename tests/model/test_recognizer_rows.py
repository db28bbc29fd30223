r"""Recognizer reads a multi-line block row by row when its model folder asks for it.

The model is stubbed: ``readings`` answers each crop with a canned text and ``check``
with a canned confidence, so these tests exercise the choice to re-read, the crops, the
composed LaTeX and the combined self-check, not the network (tests/bundled does that).
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from PIL import Image, ImageDraw

from model.adapters import adapter_for
from model.options import InferenceOptions
from model.postprocess import clean_latex_report
from model.recognizer import Reading, Recognizer
from model.selfcheck.check import Candidate, Check

BLOCK = r"\begin{aligned} a & =b \\ & =c \end{aligned}"


def two_rows(width=200, height=100):
    """A snip with two rows of glyph blocks: rows 20-35 and 55-70."""
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    for top, bottom, right in ((20, 35, 190), (55, 70, 120)):
        for x in range(10, right - 8, 12):
            draw.rectangle((x, top, x + 7, bottom - 1), fill="black")
    return image


def reading(image, text):
    cleaned = clean_latex_report(text)
    return Reading(image=image, raw_text=text, cleaned=cleaned,
                   candidates=[Candidate(cleaned.latex, -0.1, (5, 6, 7))],
                   token_log_probs=[-0.1])


class StubRecognizer(Recognizer):
    def __init__(self, whole, rows, confidences, split_rows=True):
        adapter = adapter_for("vision-encoder-decoder", {"split_rows": split_rows})
        super().__init__(model=None, processor=SimpleNamespace(tokenizer=None),
                         adapter=adapter, info=None)
        self.whole, self.rows, self.confidences = whole, rows, confidences
        self.crops = []

    def readings(self, images, options=None, should_stop=None):
        if images[0].height == two_rows().height:  # the whole snip
            return [reading(images[0], self.whole)], {"generate": 10.0}
        first = len(self.crops)
        self.crops.extend(images)
        texts = self.rows[first:first + len(images)]
        return [reading(im, text) for im, text in zip(images, texts, strict=True)], {}

    def check(self, reading, with_round_trip=None):
        index = self.rows.index(reading.raw_text) if reading.raw_text in self.rows else 0
        confidence = self.confidences[index]
        flagged = confidence < 0.6  # the stub flags a row on its own
        return Check(confidence=confidence, needs_check=flagged,
                     check_reason="the model was unsure of some symbols" if flagged else None,
                     check_region=[0.1, 0.0, 0.5, 1.0] if flagged else None), {}


@pytest.mark.parametrize(("whole", "split_rows", "image"), [
    (BLOCK, False, two_rows()),  # the folder does not ask for it
    (r"x^2 + y = 1", True, two_rows()),  # not a block
    (r"\begin{pmatrix} a \\ b \end{pmatrix}", True, two_rows()),  # a matrix stays whole
    (BLOCK, True, Image.new("RGB", (200, 100), "white")),  # no rows to cut
])
def test_a_snip_is_read_whole(whole, split_rows, image):
    recognizer = StubRecognizer(whole, ["a=b", "=c"], [0.9, 0.9], split_rows)
    first = recognizer.readings([image])[0][0]
    assert recognizer.read_rows(first, InferenceOptions()) is None
    assert recognizer.crops == []


def test_a_block_is_read_row_by_row():
    recognizer = StubRecognizer(BLOCK, ["{a+b=c}", "=d"], [0.95, 0.9])
    prediction = recognizer.recognize(two_rows())
    assert [crop.size for crop in recognizer.crops] == [(200, 45), (200, 55)]
    assert prediction.latex == r"\begin{aligned} a+b & =c \\ &=d \end{aligned}"
    assert prediction.confidence == pytest.approx(0.855)  # both rows must be right
    assert not prediction.needs_check and "rows" in prediction.timings_ms


def test_a_doubtful_row_is_named_and_shown_in_the_whole_snip():
    recognizer = StubRecognizer(BLOCK, ["a=b", "=c"], [0.9, 0.5])
    prediction = recognizer.recognize(two_rows())
    assert prediction.needs_check
    assert prediction.check_reason == "row 2: the model was unsure of some symbols"
    # the second row's crop is pixels 45-100 of 100; its region spans the crop's height
    assert prediction.check_region == pytest.approx([0.1, 0.45, 0.5, 1.0])


def test_rows_each_likely_right_can_still_need_a_look_together():
    # each row clears the uncalibrated threshold (0.8); the block as a whole does not
    recognizer = StubRecognizer(BLOCK, ["a=b", "=c"], [0.85, 0.85])
    prediction = recognizer.recognize(two_rows())
    assert prediction.confidence == pytest.approx(0.7225)
    assert prediction.needs_check and prediction.check_reason


def test_a_row_pre_processing_refuses_leaves_the_whole_reading(monkeypatch):
    from model.errors import BadImageError

    recognizer = StubRecognizer(BLOCK, ["a=b", "=c"], [0.9, 0.9])
    whole_readings = recognizer.readings

    def refuse_rows(images, options=None, should_stop=None):
        if images[0].height != two_rows().height:
            raise BadImageError("no equation found: the image is blank")
        return whole_readings(images, options, should_stop)

    monkeypatch.setattr(recognizer, "readings", refuse_rows)
    prediction = recognizer.recognize(two_rows())
    assert prediction.latex == clean_latex_report(BLOCK).latex
    assert "rows" not in prediction.timings_ms
