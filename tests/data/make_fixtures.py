"""Rebuild the test fixtures in ``tests/data`` from the full data sets.

The default tests read only this folder, so a fresh clone runs them without the large
data sets. Two parts:

- ``formulas/<source>/formulas.txt``: the first lines of each formula list (enough for
  the tiny tokenizers the tests build; the tokenizer corpus reads at most 2,000 a source);
- ``im2latex-mini/{train,validation,test}/00.parquet``: im2latex-shaped pairs (columns
  ``image``, PNG bytes, and ``text``, space-tokenised LaTeX) whose labels are the first
  short im2latex labels of each split and whose images this project's own renderer
  (``training.render.latex``: real LaTeX + dvipng, Computer Modern, black on white) drew.

Needs the full data beside the repository (``--shared``) and LaTeX + dvipng:

    python tests/data/make_fixtures.py --shared ../shared/data
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
# lines kept per formula source: two sources feed the 4,000-formula test corpus
FORMULA_LINES = {"im2latex_100k": 2000, "math_competition": 2000, "katex_tests": 200,
                 "stacks_project": 200, "wikipedia_pix2tex": 200}
SPLIT_ROWS = {"train": 24, "validation": 8, "test": 8}
MAX_LABEL_CHARS = 90  # short formulas: small images, and the tiny recipes' curriculum
DPI = 120


def copy_formulas(shared: Path, out: Path) -> None:
    for name, count in FORMULA_LINES.items():
        with (shared / "formulas" / name / "formulas.txt").open(encoding="utf-8") as fh:
            lines = [line for _, line in zip(range(count), fh, strict=False)]
        target = out / "formulas" / name / "formulas.txt"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text("".join(lines), encoding="utf-8")


def short_labels(shared: Path, split: str, count: int) -> list[str]:
    import pyarrow.parquet as pq

    labels: list[str] = []
    for path in sorted((shared / "im2latex-100k" / split).glob("*.parquet")):
        for text in pq.read_table(path, columns=["text"]).column("text").to_pylist():
            if len(text) <= MAX_LABEL_CHARS and text not in labels:
                labels.append(text)
    # more than needed: the renderer refuses a few old im2latex commands
    return labels[: count * 2]


def render_pairs(labels: list[str], count: int) -> tuple[list[bytes], list[str]]:
    from training.render.latex import Item, render_batch
    from training.render.style import BatchStyle, ItemStyle, Theme, finish_image, png_bytes

    style = ItemStyle(size="normalsize", display=False,
                      theme=Theme("light", (0, 0, 0), (255, 255, 255)),
                      margins=(4, 4, 4, 4), blur=0.0, jpeg_quality=0)
    items = [Item(i, label, style) for i, label in enumerate(labels)]
    result = render_batch(items, BatchStyle("cm", 12, DPI))
    kept = sorted(result.images)[:count]
    if len(kept) < count:
        raise SystemExit(f"only {len(kept)} of {count} formulas rendered")
    return ([png_bytes(finish_image(result.images[i], style)) for i in kept],
            [labels[i] for i in kept])


def write_split(out: Path, split: str, images: list[bytes], texts: list[str]) -> None:
    from datasets import Dataset, Features, Image, Value

    features = Features({"image": Image(), "text": Value("string")})
    rows = {"image": [{"bytes": b, "path": None} for b in images], "text": texts}
    target = out / "im2latex-mini" / split / "00.parquet"
    target.parent.mkdir(parents=True, exist_ok=True)
    Dataset.from_dict(rows, features=features).to_parquet(str(target))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=REPO.parent / "shared" / "data",
                        help="the full data folder (default ../shared/data)")
    parser.add_argument("--out", type=Path, default=HERE)
    args = parser.parse_args(argv)
    copy_formulas(args.shared, args.out)
    for split, count in SPLIT_ROWS.items():
        images, texts = render_pairs(short_labels(args.shared, split, count), count)
        write_split(args.out, split, images, texts)
        print(f"{split}: {len(texts)} pairs")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    sys.exit(main())
