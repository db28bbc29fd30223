"""Putting separately read rows back into one multi-line environment: pure text.

Rows of an ``aligned`` block line up on a relation sign, and authors put the ``&`` right
before it (``a &= b``, ``&= c``). A row read on its own has no ``&``; it gets one before
its first relation at brace depth zero, equality-like relations (``=``, ``\\le``...)
before arrows (``\\Rightarrow\\qquad 0 = x`` aligns on its ``=``), or at its start when it
has none (a first row continued below).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from itertools import pairwise

from model.postprocess import tokenize

# Environments whose rows are read one by one; the others (matrices, arrays, cases)
# have columns or delimiters spanning rows and are read whole.
ALIGNING = ("aligned", "align", "align*", "split", "eqnarray", "eqnarray*")
STACKING = ("gathered", "gather", "gather*", "multline", "multline*")
ROW_ENVIRONMENTS = ALIGNING + STACKING
ENVIRONMENT_RE = re.compile(r"\\(?:begin|end)\s*\{\s*([A-Za-z]+\*?)\s*\}")
_NAMES = "|".join(re.escape(name) for name in ROW_ENVIRONMENTS)
NESTED_RE = re.compile(r"\\(?:begin|end)\s*\{\s*(?:" + _NAMES + r")\s*\}")

EQUALITY_LIKE = frozenset({
    "=", "<", ">", "\\le", "\\ge", "\\leq", "\\geq", "\\leqslant", "\\geqslant", "\\lt",
    "\\gt", "\\ne", "\\neq", "\\equiv", "\\approx", "\\sim", "\\simeq", "\\cong",
    "\\propto", "\\coloneqq", ":=", "\\doteq", "\\ll", "\\gg",
})
OTHER_RELATIONS = frozenset({
    "\\Rightarrow", "\\Leftarrow", "\\Leftrightarrow", "\\implies", "\\impliedby",
    "\\iff", "\\to", "\\rightarrow", "\\longrightarrow", "\\mapsto", "\\longmapsto",
    "\\in", "\\subset", "\\subseteq", "\\supset", "\\supseteq",
})


def row_environment(latex: str) -> str | None:
    """The environment a whole-image reading put its rows in, when it is one read row
    by row: the first environment named (by ``\\begin``, or by ``\\end`` when the
    reading lost its start), if it is in ``ROW_ENVIRONMENTS``. The reading need not
    break rows itself (a squeezed block can come back as one garbled row); the image's
    rows decide."""
    found = ENVIRONMENT_RE.search(latex)
    if found is None or found.group(1) not in ROW_ENVIRONMENTS:
        return None
    return found.group(1)


def _top_level_positions(tokens: Sequence[str], wanted: frozenset[str]) -> list[int]:
    """Indices of ``wanted`` tokens outside every brace group and environment."""
    depth, found = 0, []
    for i, token in enumerate(tokens):
        if token in ("{", "\\begin"):
            depth += 1
        elif token in ("}", "\\end"):
            depth -= 1
        elif depth == 0 and token in wanted:
            found.append(i)
    return found


def _trimmed(tokens: list[str]) -> list[str]:
    start, end = 0, len(tokens)
    while start < end and tokens[start] == " ":
        start += 1
    while end > start and tokens[end - 1] == " ":
        end -= 1
    return tokens[start:end]


def _unwrapped(tokens: list[str]) -> list[str]:
    """Without a leading empty group or one brace group around the whole row: a row
    read alone sometimes comes back as ``{x+y}`` or ``{} = b``, which typeset the same
    as ``x+y`` and ``= b`` inside an ``aligned`` cell."""
    tokens = _trimmed(tokens)
    while tokens[:2] == ["{", "}"]:
        tokens = _trimmed(tokens[2:])
    if tokens[:1] == ["{"] and tokens[-1:] == ["}"] and _closing(tokens, 0) == len(tokens) - 1:
        tokens = _trimmed(tokens[1:-1])
    return tokens


def _closing(tokens: Sequence[str], opening: int) -> int | None:
    """Index of the brace that closes the one at ``opening``."""
    depth = 0
    for i in range(opening, len(tokens)):
        depth += {"{": 1, "}": -1}.get(tokens[i], 0)
        if depth == 0:
            return i
    return None


def flattened(rows: Sequence[str]) -> list[str]:
    """The rows, with any row that came back as a block of its own (a crop that still
    held two rows) split into its rows: the nested ``\\begin``/``\\end`` of a row
    environment dropped, the row cut at its top-level ``\\\\``."""
    out = []
    for row in rows:
        inner = NESTED_RE.sub(" ", row)
        tokens = tokenize(inner)
        breaks = _top_level_positions(tokens, frozenset({"\\\\"}))
        bounds = [-1, *breaks, len(tokens)]
        parts = ["".join(tokens[a + 1:b]) for a, b in pairwise(bounds)]
        out.extend(part for part in parts if part.strip())
    return out


def row_tokens(row: str) -> list[str]:
    """A row's tokens (spaces kept: they are content in text mode) as they go into the
    block: unwrapped, and without an ``&`` of the row's own guessing (the block places
    its own)."""
    return _unwrapped([t for t in tokenize(row) if t != "&"])


def with_alignment(row: str) -> str:
    """``row`` with an ``&`` before the relation it aligns on (see the module doc)."""
    tokens = row_tokens(row)
    for wanted in (EQUALITY_LIKE, OTHER_RELATIONS):
        positions = _top_level_positions(tokens, wanted)
        if positions:
            at = positions[0]
            return f"{''.join(tokens[:at])} & {''.join(tokens[at:])}".strip()
    return f"& {''.join(tokens)}"


def compose_rows(rows: Sequence[str], environment: str = "aligned") -> str:
    """One ``\\begin{environment} ... \\end{environment}`` block of ``rows``: aligning
    environments get an ``&`` per row, stacking ones (``gathered``) none."""
    aligning = environment in ALIGNING
    body = " \\\\ ".join(with_alignment(r) if aligning else "".join(row_tokens(r))
                         for r in flattened(rows))
    return f"\\begin{{{environment}}} {body} \\end{{{environment}}}"
