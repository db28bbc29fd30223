"""`python -m training.data.devset --out DIR --n 400`: a PDF-snip dev set the bundled model
never trained on.

Each snip is a display equation typeset by pdflatex in Computer Modern, Times
(mathptmx) or Palatino (mathpazo), rasterised by poppler (as a PDF viewer does) at
96-192 DPI, cropped loosely as by hand (random uneven margins), a quarter of them in a
dark or sepia viewer theme. The formulas are held out from the bundled model's
training: they come from the formula lists (not im2latex, whose train and validation
pairs it read) and fall in the renderer's validation hash split
(``training.render.formulas.is_validation`` at the fraction ``snaptex render`` used),
which the rendered training sets never contain. The im2latex test split is not used.

``--lengths-like DIR`` (a parquet split with a ``text`` column, such as im2latex-100k's
``validation``) draws the formulas so their lengths follow that split's: the formula lists
are mostly short fragments, while formulas snipped from papers are long (im2latex's median
is 85 characters), and a dev set of fragments reads far easier than real snips.

``--look im2latex`` typesets the same held-out formulas in im2latex-100k's own look
(:mod:`training.data.im2latex_look`), a dev set for the im2latex figures that is not the
im2latex test split.

Writes ``DIR/images/NNNNN.png`` and ``DIR/devset.jsonl`` (one record a line: file, text,
source, font, points, dpi, theme). Reproducible from ``--seed``.
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from training.data import im2latex_look
from training.render.formulas import (
    FORMULA_FILE,
    formula_key,
    is_validation,
    read_excluded_keys,
    read_formulas,
    read_texts,
)
from training.render.latex import (
    is_display_environment,
    latex_source,
    parse_log,
    preamble,
    precheck,
)
from training.render.style import (
    BatchStyle,
    ItemStyle,
    finish_image,
    sample_margins,
    sample_theme,
)

logger = logging.getLogger(__name__)

SHARED = Path(__file__).resolve().parents[2].parent / "shared/data"
SOURCES = ("stacks_project", "math_competition", "wikipedia_pix2tex")
FONTS = ("cm", "mathptmx", "mathpazo")  # Computer Modern, Times, Palatino
DPI_RANGE = (96, 192)
THEME_SHARES = {"light": 0.75, "dark": 0.15, "sepia": 0.10}
VALIDATION_FRACTION = 0.02  # snaptex render's default: these formulas were never rendered
MIN_CHARS, MAX_CHARS = 8, 160
LONG_MAX_CHARS = 400  # with --lengths-like: papers' display equations run long
BATCH = 40
# A page wide enough for a long display equation; small enough to rasterise fast.
PAGE_GEOMETRY = r"\usepackage[paperwidth=60cm,paperheight=14cm,margin=1cm]{geometry}"
INK_LEVEL = 200


@dataclass(frozen=True)
class Snip:
    text: str
    source: str
    font: str
    points: int
    dpi: int
    theme: str


def split_formulas(formulas_dir: Path, sources: tuple[str, ...], excluded: set[str], *,
                   validation: bool, max_chars: int, order: str) -> list[tuple[str, str]]:
    """(source, formula) pairs of one side of the renderer's hash split (``validation``),
    not in ``excluded``, of display length, each formula once, shuffled by ``order``."""
    pairs, seen = [], set()
    for source in sources:
        for formula in read_formulas(formulas_dir / source / FORMULA_FILE):
            key = formula_key(formula)
            if (
                key in seen
                or key in excluded
                or not MIN_CHARS <= len(key) <= max_chars
                or is_validation(formula, VALIDATION_FRACTION) != validation
                or precheck(formula)
            ):
                continue
            seen.add(key)
            pairs.append((source, formula))
    random.Random(order).shuffle(pairs)
    return pairs


def held_out_formulas(formulas_dir: Path, im2latex_dir: Path, seed: int,
                      max_chars: int = MAX_CHARS) -> list[tuple[str, str]]:
    """(source, formula) pairs in the validation hash split, not im2latex formulas,
    of display length, shuffled by ``seed``."""
    excluded = read_excluded_keys([im2latex_dir]) if im2latex_dir.exists() else set()
    return split_formulas(formulas_dir, SOURCES, excluded, validation=True,
                          max_chars=max_chars, order=f"devset:{seed}")


LENGTH_EDGES = (20, 40, 60, 85, 125, 170, 250)  # non-space characters; bins between


def _length_bin(length: int) -> int:
    return sum(length > edge for edge in LENGTH_EDGES)


def length_shares(texts: list[str]) -> list[float]:
    """Share of ``texts`` in each length bin (``LENGTH_EDGES``)."""
    counts = [0] * (len(LENGTH_EDGES) + 1)
    for text in texts:
        counts[_length_bin(len(formula_key(text)))] += 1
    total = max(sum(counts), 1)
    return [c / total for c in counts]


def match_lengths(
    pairs: list[tuple[str, str]], shares: list[float], count: int
) -> list[tuple[str, str]]:
    """``count`` of ``pairs`` (kept in order) with bin shares as close to ``shares`` as the
    pool allows; a bin that runs short leaves its places to the others, longest first."""
    bins: list[list[tuple[str, str]]] = [[] for _ in shares]
    for pair in pairs:
        bins[min(_length_bin(len(formula_key(pair[1]))), len(shares) - 1)].append(pair)
    quota = [min(round(share * count), len(b)) for share, b in zip(shares, bins, strict=True)]
    for index in sorted(range(len(bins)), key=lambda i: -shares[i]):
        quota[index] += min(len(bins[index]) - quota[index], count - sum(quota))
    chosen = {id(p) for b, q in zip(bins, quota, strict=True) for p in b[:q]}
    return [pair for pair in pairs if id(pair) in chosen]


def _document(formulas: list[str], batch: BatchStyle) -> str:
    head = preamble(batch).replace(
        r"\usepackage[paperwidth=200cm,paperheight=200cm,margin=1cm]{geometry}",
        PAGE_GEOMETRY,
    )
    pages = []
    for position, formula in enumerate(formulas):
        body = (
            f"{latex_source(formula)}\n"
            if is_display_environment(formula)
            else f"\\begin{{displaymath}}{latex_source(formula)}\n\\end{{displaymath}}"
        )
        pages.append(
            f"\\typeout{{SNAPTEX-FORMULA {position} PAGE \\thepage}}\n"
            f"{{\\normalsize\n{body}\\par}}\n\\newpage\n"
        )
    return f"{head}\n\\begin{{document}}\n{''.join(pages)}\\end{{document}}\n"


def _compile(formulas: list[str], batch: BatchStyle, workdir: Path) -> dict[int, str]:
    """pdflatex once; the positions its log blames (empty: clean)."""
    (workdir / "doc.tex").write_text(_document(formulas, batch), encoding="utf-8")
    done = subprocess.run(
        ["pdflatex", "-interaction=nonstopmode", "-no-shell-escape", "doc.tex"],
        cwd=workdir, capture_output=True, timeout=120, check=False,
    )
    log = (workdir / "doc.log").read_text(encoding="utf-8", errors="replace")
    errors, pages_ok = parse_log(log, len(formulas))
    if not errors and (done.returncode or not pages_ok):
        errors = {i: "page mapping" for i in range(len(formulas))}
    return errors


def _rasterise(workdir: Path, page: int, dpi: int) -> Image.Image | None:
    """One page at ``dpi``, grey, cropped to its ink (None if blank)."""
    stem = workdir / f"page{page}"
    subprocess.run(
        # PGM, not PNG: the same pixels, without compressing a mostly blank page (10x faster).
        ["pdftoppm", "-f", str(page), "-l", str(page), "-r", str(dpi), "-gray",
         "-singlefile", "doc.pdf", str(stem)],
        cwd=workdir, capture_output=True, timeout=60, check=True,
    )
    with Image.open(f"{stem}.pgm") as raw:
        grey = raw.convert("L")
    box = grey.point(lambda v: 255 if v < INK_LEVEL else 0).getbbox()
    return grey.crop(box) if box else None


def render_group(
    formulas: list[str], batch: BatchStyle, dpis: list[int]
) -> list[Image.Image | None]:
    """Tight grey crops of ``formulas`` typeset together; None where LaTeX failed.
    Blamed formulas are dropped and the rest recompiled, so pages match labels."""
    keep = list(range(len(formulas)))
    with tempfile.TemporaryDirectory(prefix="snaptex-devset-") as tmp:
        workdir = Path(tmp)
        for _ in range(4):
            errors = _compile([formulas[i] for i in keep], batch, workdir)
            if not errors:
                break
            blamed = {keep[p] for p in errors if 0 <= p < len(keep)}
            keep = [i for i in keep if i not in blamed] if blamed else []
        else:
            keep = []
        images: list[Image.Image | None] = [None] * len(formulas)
        for page, index in enumerate(keep, start=1):
            images[index] = _rasterise(workdir, page, dpis[index])
    return images


def theme_name(rng: random.Random) -> str:
    """A viewer theme drawn with the dev set's shares."""
    names = list(THEME_SHARES)
    return rng.choices(names, weights=[THEME_SHARES[n] for n in names])[0]


def _finish_pdf_snips(rng: random.Random, cursor: int, group: list[str]
                      ) -> list[tuple[Image.Image, Snip] | None]:
    """The group typeset in one of :data:`FONTS`, each formula at its own DPI, finished
    as a snip taken in a viewer (loose margins, a theme)."""
    batch = BatchStyle(font=FONTS[(cursor // BATCH) % len(FONTS)],
                       points=rng.choice((10, 11, 12)), dpi=0)
    dpis = [rng.randint(*DPI_RANGE) for _ in group]
    finished: list[tuple[Image.Image, Snip] | None] = []
    for formula, dpi, grey in zip(group, dpis, render_group(group, batch, dpis), strict=True):
        if grey is None:
            finished.append(None)
            continue
        theme = sample_theme(rng, theme_name(rng))
        style = ItemStyle("normalsize", True, theme, sample_margins(rng, dpi), 0.0, 0)
        snip = Snip(formula, "", batch.font, batch.points, dpi, theme.name)
        finished.append((finish_image(grey, style), snip))
    return finished


def render_in_im2latex_look(formulas: list[str]) -> list[Image.Image | None]:
    """``formulas`` in im2latex-100k's own look; None where LaTeX failed."""
    greys = render_group(formulas, im2latex_look.batch_style(),
                         [im2latex_look.RENDER_DPI] * len(formulas))
    return [None if grey is None else im2latex_look.finish(grey) for grey in greys]


def _finish_im2latex(_rng: random.Random, _cursor: int, group: list[str]
                     ) -> list[tuple[Image.Image, Snip] | None]:
    return [None if image is None else
            (image, Snip(formula, "", im2latex_look.FONT, im2latex_look.POINTS,
                         im2latex_look.RENDER_DPI // 2, "light"))
            for formula, image in zip(group, render_in_im2latex_look(group), strict=True)]


LOOKS = {"pdf-snip": _finish_pdf_snips, im2latex_look.NAME: _finish_im2latex}


def build(out: Path, count: int, seed: int, formulas_dir: Path, im2latex_dir: Path,
          lengths_like: Path | None = None, look: str = "pdf-snip") -> int:
    rng = random.Random(f"devset-style:{seed}")
    pool = held_out_formulas(formulas_dir, im2latex_dir, seed,
                             max_chars=MAX_CHARS if lengths_like is None else LONG_MAX_CHARS)
    if lengths_like is not None:
        # Drawn with room for formulas LaTeX refuses, so the set still reaches ``count``.
        texts = read_texts(lengths_like)
        if not texts:
            raise FileNotFoundError(f"no formulas in {lengths_like}")
        pool = match_lengths(pool, length_shares(texts), count * 11 // 10)
    (out / "images").mkdir(parents=True, exist_ok=True)
    records, cursor = [], 0
    while len(records) < count and cursor < len(pool):
        group = pool[cursor : cursor + BATCH]
        cursor += len(group)
        finished = LOOKS[look](rng, cursor, [f for _, f in group])
        for (source, _), done in zip(group, finished, strict=True):
            if done is None or len(records) >= count:
                continue
            image, snip = done
            name = f"images/{len(records):05d}.png"
            image.save(out / name)
            records.append({"file": name, **{**snip.__dict__, "source": source}})
        logger.info("%d/%d snips", len(records), count)
    with (out / "devset.jsonl").open("w", encoding="utf-8") as handle:
        for record in records:
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    return len(records)


def read_devset(folder: Path) -> list[dict]:
    lines = (folder / "devset.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m training.data.devset",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--n", type=int, default=400)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--formulas", type=Path, default=SHARED / "formulas")
    parser.add_argument("--im2latex", type=Path, default=SHARED / "im2latex-100k",
                        help="im2latex pairs whose formulas are excluded (all splits)")
    parser.add_argument("--lengths-like", type=Path, default=None, metavar="SPLIT",
                        help="draw formulas whose lengths follow this parquet split's "
                        "(e.g. ../shared/data/im2latex-100k/validation)")
    parser.add_argument("--look", choices=sorted(LOOKS), default="pdf-snip",
                        help="PDF snips in several fonts, DPIs and themes (default), or "
                        "im2latex-100k's own look")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    if args.n <= 0:
        print("--n must be positive", file=sys.stderr)
        return 2
    try:
        made = build(args.out, args.n, args.seed, args.formulas, args.im2latex,
                     args.lengths_like, args.look)
    except FileNotFoundError as exc:  # --lengths-like or a formula list that is not there
        print(f"devset: {exc}", file=sys.stderr)
        return 2
    print(json.dumps({"out": str(args.out), "snips": made}))
    return 0 if made else 1


if __name__ == "__main__":
    sys.exit(main())
