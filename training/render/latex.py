"""Compile batches of formulas with real LaTeX and rasterise them with dvipng.

One document holds a whole batch, one formula per page, so the LaTeX and dvipng
start-up cost (~0.2 s) is paid once per batch instead of once per formula. A page
can only be trusted to show formula *i* if the run was clean, so a failing batch is
re-rendered without the formulas its log blames, and in halves when the log cannot
say, until every bad formula is isolated and every kept image has its own label.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image

from training.render.style import BatchStyle, ItemStyle

logger = logging.getLogger(__name__)

LATEX_TIMEOUT_S = 60
# A failing batch whose log blames at most this many formulas retries them one by
# one; more suspects than that means the log is confused, so bisect instead.
MAX_SINGLE_RETRIES = 8
INK_THRESHOLD = 200  # a page whose darkest pixel is lighter than this shows nothing

FONT_PACKAGES = {
    "cm": "",
    "mathptmx": r"\usepackage{mathptmx}",
    "txfonts": r"\usepackage{txfonts}",
    "mathpazo": r"\usepackage{mathpazo}",
    "pxfonts": r"\usepackage{pxfonts}",
}
# txfonts/pxfonts define the AMS symbols themselves and clash with amssymb.
_AMSSYMB_CLASHES = {"txfonts", "pxfonts"}

# im2latex labels use plain-TeX \matrix{..}/\pmatrix{..}, which amsmath turns into
# errors; like the original im2latex renderer, map them to environment wrappers.
# \begin{matrix} itself calls \matrix, so the wrappers need their own names.
_OLD_MATRIX = re.compile(r"\\(p?matrix)(?![A-Za-z])")
_WRAPPERS = (
    r"\newcommand{\snapmatrix}[1]{\begin{matrix}#1\end{matrix}}"
    "\n"
    r"\newcommand{\snappmatrix}[1]{\begin{pmatrix}#1\end{pmatrix}}"
)

# Commands that are not formula content: they define macros, touch files, break pages
# or would make the page differ from the label. Formulas using them are skipped.
_FORBIDDEN = re.compile(
    r"\\(def|edef|gdef|xdef|let|newcommand|renewcommand|providecommand|input|include"
    r"|write|openout|openin|read|catcode|special|loop|csname|newpage|clearpage|pagebreak"
    r"|documentclass|usepackage|immediate|end\{document\}|begin\{document\})(?![A-Za-z])"
)
_UNESCAPED_PERCENT = re.compile(r"(?<!\\)(?:\\\\)*%")
_DISPLAY_ENVS = r"(align|alignat|flalign|gather|equation|eqnarray|multline)"
_NUMBERED_ENV = re.compile(rf"\\(begin|end)\{{{_DISPLAY_ENVS}\}}")
_WHOLE_DISPLAY_ENV = re.compile(
    rf"^\\begin\{{{_DISPLAY_ENVS}\*?\}}.*\\end\{{\1\*?\}}$", re.S
)
_UNITS = "|".join(
    r"\s*".join(unit)
    for unit in ("pt", "cm", "mm", "in", "em", "ex", "mu", "bp", "pc", "dd", "sp")
)
_DIMENSION = rf"(?=[-+\s.]*\d)[-+]?\s*\d*[\d\s]*(?:\.[\d\s]*)?(?:{_UNITS})(?![A-Za-z])"
_BRACED_DIMENSION = re.compile(rf"\{{\s*({_DIMENSION})\s*\}}")
_SKIP_DIMENSION = re.compile(
    rf"(\\(?:kern|mkern|hskip|mskip|vskip)\s*)({_DIMENSION})\s*"
)
_CONTEXT = re.compile(r"^l\.\d+ (.*)")
_MARKER = re.compile(r"^SNAPTEX-FORMULA (\d+) PAGE (\d+)")


@dataclass(frozen=True)
class Item:
    """One formula to draw: its position in the batch, label and look."""

    index: int
    formula: str
    style: ItemStyle


@dataclass
class BatchResult:
    images: dict[int, Image.Image] = field(default_factory=dict)  # grey, black on white
    failures: dict[int, str] = field(default_factory=dict)  # index -> reason
    latex_runs: int = 0

    def merge(self, other: BatchResult) -> None:
        self.images.update(other.images)
        self.failures.update(other.failures)
        self.latex_runs += other.latex_runs


def tools_missing() -> list[str]:
    """Names of the external programs the renderer needs that are not on PATH."""
    return [tool for tool in ("latex", "dvipng") if shutil.which(tool) is None]


def _braces_balanced(formula: str) -> bool:
    depth = 0
    for token in re.findall(r"\\.|[{}]", formula):
        depth += {"{": 1, "}": -1}.get(token, 0)
        if depth < 0:
            return False
    return depth == 0


def precheck(formula: str) -> str | None:
    """Reason to skip ``formula`` without running LaTeX, or None if it may be compiled.

    Unbalanced braces would swallow the following pages (a runaway argument), so they
    are refused here rather than found by bisection.
    """
    if not formula.strip():
        return "empty formula"
    if not _braces_balanced(formula):
        return "unbalanced braces"
    if _UNESCAPED_PERCENT.search(formula):
        return "contains a % comment"
    found = _FORBIDDEN.search(formula)
    if found:
        return f"uses \\{found.group(1)} (not formula content)"
    return None


def _join_dimensions(formula: str) -> str:
    """`\\hspace { 0 . 5 c m }` -> `\\hspace {0.5cm}`: space-tokenised labels split the
    units TeX must read in one piece. Math mode ignores spaces, so nothing else
    moves."""
    joined = _BRACED_DIMENSION.sub(
        lambda m: "{" + "".join(m.group(1).split()) + "}", formula
    )
    return _SKIP_DIMENSION.sub(
        lambda m: m.group(1) + "".join(m.group(2).split()) + " ", joined
    )


def latex_source(formula: str) -> str:
    """The text handed to LaTeX for a label: old matrix commands rewritten, numbered
    environments starred (an equation number would be ink the label lacks), split
    dimensions joined."""
    source = _OLD_MATRIX.sub(lambda m: "\\snap" + m.group(1), _join_dimensions(formula))
    return _NUMBERED_ENV.sub(lambda m: f"\\{m.group(1)}{{{m.group(2)}*}}", source)


def is_display_environment(formula: str) -> bool:
    """True for a whole align/gather/... block (LaTeX refuses it inside displaymath)."""
    return bool(_WHOLE_DISPLAY_ENV.match(formula.strip()))


def preamble(batch: BatchStyle) -> str:
    symbols = "" if batch.font in _AMSSYMB_CLASHES else r"\usepackage{amssymb}"
    return "\n".join(
        [
            rf"\documentclass[{batch.points}pt]{{article}}",
            r"\usepackage{amsmath}",
            symbols,
            r"\usepackage{mathrsfs}",
            r"\usepackage{bm}",
            FONT_PACKAGES[batch.font],
            # A huge page: long formulas must not be clipped or broken by the page edge.
            r"\usepackage[paperwidth=200cm,paperheight=200cm,margin=1cm]{geometry}",
            r"\pagestyle{empty}",
            # A glyph missing from the font is an error, not a silent hole.
            r"\tracinglostchars=3",
            _WRAPPERS,
        ]
    )


def _page(item: Item, position: int) -> str:
    # The newline after the formula keeps a trailing control word apart from \end.
    if is_display_environment(item.formula):
        body = f"{latex_source(item.formula)}\n"
    else:
        style = "" if item.style.display else r"\textstyle "
        formula = latex_source(item.formula)
        body = f"\\begin{{displaymath}}{style}{formula}\n\\end{{displaymath}}"
    return (
        f"\\typeout{{SNAPTEX-FORMULA {position} PAGE \\thepage}}\n"
        f"{{\\{item.style.size}\n{body}\\par}}\n\\newpage\n"
    )


def build_document(items: list[Item], batch: BatchStyle) -> str:
    pages = "".join(_page(item, position) for position, item in enumerate(items))
    return (
        f"{preamble(batch)}\n\\begin{{document}}\n{pages}"
        f"\\typeout{{SNAPTEX-END PAGE \\thepage}}\n\\end{{document}}\n"
    )


def parse_log(log: str, count: int) -> tuple[dict[int, str], bool]:
    """Errors per batch position, and whether every formula began on its own page.

    Errors are blamed on the formula whose marker precedes them; a formula that did
    not start on page position+1 means an earlier one ate or added a page.
    """
    errors: dict[int, str] = {}
    current, pages_ok, seen, pending = -1, True, 0, None  # -1: still in the preamble
    for line in log.splitlines():
        marker = _MARKER.match(line)
        if marker:
            current, page = int(marker.group(1)), int(marker.group(2))
            pages_ok &= page == current + 1
            seen += 1
        elif line.startswith("! ") and current not in errors:
            pending = line[2:].strip().rstrip(".")
            errors[current] = pending
        elif pending and _CONTEXT.match(line):  # "l.12 ...\\fooo": where TeX stopped
            errors[current] = f"{pending} at {_CONTEXT.match(line).group(1)[-40:]}"
            pending = None
    return errors, pages_ok and seen == count


def _run(command: list[str], workdir: Path) -> subprocess.CompletedProcess | None:
    env = dict(os.environ, openin_any="p", openout_any="p")  # no files outside workdir
    try:
        return subprocess.run(
            command,
            cwd=workdir,
            env=env,
            capture_output=True,
            timeout=LATEX_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired:
        logger.warning("%s timed out after %d s", command[0], LATEX_TIMEOUT_S)
        return None


def _rasterise(workdir: Path, items: list[Item], dpi: int) -> BatchResult:
    result = BatchResult()
    done = _run(
        [
            "dvipng",
            "-q",
            "-T",
            "tight",
            "-D",
            str(dpi),
            "-z",
            "1",
            "-bg",
            "rgb 1 1 1",
            "-fg",
            "rgb 0 0 0",
            "-o",
            "p%04d.png",
            "doc.dvi",
        ],
        workdir,
    )
    pages = sorted(workdir.glob("p*.png"))
    if done is None or done.returncode != 0 or len(pages) != len(items):
        reason = (
            "dvipng failed"
            if done is None or done.returncode
            else "page count mismatch"
        )
        result.failures = {item.index: reason for item in items}
        return result
    for item, page in zip(items, pages, strict=True):
        with Image.open(page) as raw:
            grey = raw.convert("L")
        if grey.getextrema()[0] > INK_THRESHOLD:
            result.failures[item.index] = "renders to an empty image"
        else:
            result.images[item.index] = grey
    return result


def compile_batch(
    items: list[Item], batch: BatchStyle
) -> tuple[BatchResult, dict[int, str]]:
    """One LaTeX + dvipng run. Returns images (only if the run was clean) and the log's
    errors keyed by item index (empty when clean)."""
    with tempfile.TemporaryDirectory(prefix="snaptex-render-") as tmp:
        workdir = Path(tmp)
        (workdir / "doc.tex").write_text(build_document(items, batch), encoding="utf-8")
        done = _run(
            ["latex", "-interaction=nonstopmode", "-no-shell-escape", "doc.tex"],
            workdir,
        )
        log_path = workdir / "doc.log"
        log = (
            log_path.read_text(encoding="utf-8", errors="replace")
            if log_path.exists()
            else ""
        )
        errors, pages_ok = parse_log(log, len(items))
        if (
            -1 in errors
        ):  # the preamble itself fails: no formula can render, stop loudly
            raise RuntimeError(f"LaTeX preamble for {batch} fails: {errors[-1]}")
        if done is None:
            errors.setdefault(-1, f"LaTeX timed out after {LATEX_TIMEOUT_S} s")
        elif not errors and not pages_ok:
            errors[-1] = "page mapping shifted"
        if errors or not (workdir / "doc.dvi").exists():
            errors.setdefault(-1, "LaTeX produced no output")
            blamed = {
                items[p].index: e for p, e in errors.items() if 0 <= p < len(items)
            }
            return BatchResult(latex_runs=1), blamed or {-1: errors[-1]}
        result = _rasterise(workdir, items, batch.dpi)
        result.latex_runs = 1
        return result, {}


def _split(items: list[Item], blamed: dict[int, str]) -> list[list[Item]]:
    suspects = [item for item in items if item.index in blamed]
    if 0 < len(suspects) <= MAX_SINGLE_RETRIES and len(suspects) < len(items):
        innocent = [item for item in items if item.index not in blamed]
        return [innocent] + [[item] for item in suspects]
    middle = len(items) // 2
    return [items[:middle], items[middle:]]


def render_batch(items: list[Item], batch: BatchStyle) -> BatchResult:
    """Render ``items``; failing formulas are isolated and reported, not mislabelled."""
    refused = {
        item.index: reason for item in items if (reason := precheck(item.formula))
    }
    result = _render_isolating(
        [item for item in items if item.index not in refused], batch
    )
    result.failures.update(refused)
    return result


def _render_isolating(items: list[Item], batch: BatchStyle) -> BatchResult:
    if not items:
        return BatchResult()
    result, blamed = compile_batch(items, batch)
    if not blamed:
        return result
    if len(items) == 1:
        reason = next(iter(blamed.values()))
        result.failures[items[0].index] = reason
        return result
    for group in _split(items, blamed):
        result.merge(_render_isolating(group, batch))
    return result
