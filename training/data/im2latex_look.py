"""im2latex-100k's own look, for training images and dev sets of other formulas in it.

im2latex-100k's images were typeset by pdflatex in Computer Modern at 10 pt, rasterised
at 200 DPI, cropped to the ink with 8 px of white around it and halved with a Lanczos
filter: a render made so matches the data set's images in ink height and width to the
pixel (checked on its validation pairs). Its readers judge a model on that look (the
im2latex test split), and its 11,475 pairs here hold too few formulas to learn the look
apart from the formulas, so the builders can draw any formula in it
(``python -m training.data.pdf_snips --look im2latex``, ``python -m training.data.devset
--look im2latex``).

The data set also pads each image to one of a few bucket sizes; :func:`model.preprocess.prepare`
crops to the ink before anything reads an image, so that padding is left out.
"""

from __future__ import annotations

from PIL import Image, ImageOps

from training.render.style import BatchStyle

NAME = "im2latex"
FONT, POINTS = "cm", 10
RENDER_DPI = 200
PAD = 8  # px of white around the ink at RENDER_DPI, before halving


def batch_style() -> BatchStyle:
    """The LaTeX document settings of every image in this look."""
    return BatchStyle(font=FONT, points=POINTS, dpi=0)


def finish(grey: Image.Image) -> Image.Image:
    """A tight grey crop rasterised at :data:`RENDER_DPI` -> the data set's look (RGB)."""
    padded = ImageOps.expand(grey.convert("L"), border=PAD, fill=255)
    half = (max(1, padded.width // 2), max(1, padded.height // 2))
    return padded.resize(half, Image.Resampling.LANCZOS).convert("RGB")
