"""LaTeX clean-up: pure ``str -> str`` functions, table-tested.

Model text arrives space-tokenised (``\\frac { 1 } { 2 }``), sometimes with the prompt
echoed, special tokens left in, a degenerate repetition loop running to the token limit,
or braces cut off. :func:`clean_latex` turns it into what a person would paste:
``\\frac{1}{2}``. The same functions score evaluation (:func:`latex_tokens`), so the app
and the metrics never disagree about what counts as "the same LaTeX".
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

# Commands whose argument is typeset in text mode, where spaces are content.
TEXT_MODE_COMMANDS = frozenset(
    {
        r"\text",
        r"\mbox",
        r"\textrm",
        r"\textbf",
        r"\textit",
        r"\textsf",
        r"\texttt",
        r"\textnormal",
        r"\hbox",
        r"\textup",
        r"\emph",
    }
)
SPECIAL_TOKEN_RE = re.compile(
    r"<(?:pad|eos|bos|unk|mask|start_of_image|end_of_image|image_soft_token|"
    r"start_of_turn|end_of_turn|/s|s)>"
)
ECHO_RE = re.compile(
    r"^\s*(?:<start_of_image>\s*)?Convert this equation image to LaTeX\.?"
    r"(?:\s*Output only LaTeX\.?)?\s*",
    re.IGNORECASE,
)
# A command (letters), a control symbol (\ + one non-letter), whitespace, or one char.
TOKEN_RE = re.compile(r"\\[a-zA-Z]+\*?|\\.|\s+|.", re.DOTALL)
# Tokens that mean nothing at either end of an equation: whitespace, a control space,
# and a lone backslash (a command cut off by the token limit).
EDGE_TOKEN_RE = re.compile(r"\s+|\\\s|\\")


@dataclass(frozen=True)
class Cleaned:
    latex: str
    warnings: tuple[str, ...] = ()


def tokenize(text: str) -> list[str]:
    """LaTeX tokens, whitespace runs kept as single-space tokens."""
    return [" " if t.isspace() else t for t in TOKEN_RE.findall(text)]


def strip_edges(text: str) -> str:
    """Drop edge tokens (see ``EDGE_TOKEN_RE``) from both ends, token by token.

    ``str.strip`` is not enough: it turns a trailing control space ``\\ `` into a bare
    backslash, which swallows whatever the user types after the pasted LaTeX. A
    ``\\\\`` line break is one token, so it is kept.
    """
    spans = [
        match.span()
        for match in TOKEN_RE.finditer(text)
        if not EDGE_TOKEN_RE.fullmatch(match.group())
    ]
    return text[spans[0][0] : spans[-1][1]] if spans else ""


def latex_tokens(text: str) -> list[str]:
    """Spacing-insensitive tokens for metrics: the canonical form, split, no spaces.

    Text-mode content keeps its words (``\\text{if }`` -> ``\\text { i f }``): the
    characters matter, the spacing does not. Scripts are braced (``x^2`` is ``x^{2}``).
    """
    return [t for t in tokenize(canonical(text)) if t != " "]


def canonical(text: str) -> str:
    """The one canonical form: canonical spacing, one-character scripts braced."""
    return brace_scripts(normalize_spacing(text))


def brace_scripts(text: str) -> str:
    """``x^2`` -> ``x^{2}``, ``a_i`` -> ``a_{i}``: one canonical form for one-character
    scripts (im2latex's labels always brace them). Commands are left alone: ``^\\frac``
    takes arguments this function cannot see."""
    tokens = tokenize(text)
    out: list[str] = []
    for token in tokens:
        # ``\\^`` and ``\\_`` tokenise as one command each, so out[-1] is a real script.
        if out and out[-1] in ("^", "_") and _is_script_char(token):
            out.append("{" + token + "}")
            continue
        out.append(token)
    return "".join(out)


def _is_script_char(token: str) -> bool:
    return len(token) == 1 and token not in "{}\\ &^_"


def strip_special(text: str, prompt: str | None = None) -> str:
    """Drop special tokens, control characters and an echoed prompt.

    ``prompt`` is given for prompted models only (``PromptedAdapter.echo_prompt``).
    """
    text = SPECIAL_TOKEN_RE.sub(" ", text)
    # Byte-fallback decoding of an undertrained model can yield control characters
    # and U+FFFD; neither is ever part of LaTeX someone pastes.
    text = "".join(" " if _is_junk(c) else c for c in text)
    if prompt:
        bare = SPECIAL_TOKEN_RE.sub("", prompt).strip()
        if bare and text.lstrip().startswith(bare):
            text = text.lstrip()[len(bare) :]
    text = ECHO_RE.sub("", text)
    if prompt:
        # The tutorial's clean-up for prompted (T5Gemma-2) models: after the echo, a
        # leading "." (the echoed prompt's full stop, or a stray one) goes too.
        text = text.strip().removeprefix(".")
    return strip_edges(text)


def _is_junk(char: str) -> bool:
    return char == "\ufffd" or (
        unicodedata.category(char) == "Cc" and char not in "\n\t"
    )


def _is_letter_command(token: str) -> bool:
    return len(token) > 1 and token[0] == "\\" and token[1].isalpha()


def _needs_space(prev: str, nxt: str) -> bool:
    """A space is kept only where TeX needs it: ``\\alpha x`` is not ``\\alphax``."""
    return _is_letter_command(prev) and (nxt[:1].isalpha())


def normalize_spacing(text: str) -> str:
    """Canonical spacing: compact math, spaces kept in text mode, readable tables."""
    tokens = tokenize(strip_edges(text))
    out: list[str] = []
    text_depth: list[int] = []  # brace depths at which a text-mode argument opened
    depth = 0
    pending_text_cmd = False
    for token in tokens:
        if token == " ":
            if text_depth and out and out[-1] != " ":
                out.append(" ")
            continue
        if token == "{":
            depth += 1
            if pending_text_cmd:
                text_depth.append(depth)
        elif token == "}":
            if text_depth and text_depth[-1] == depth:
                text_depth.pop()
            depth -= 1
        pending_text_cmd = token in TEXT_MODE_COMMANDS
        _append(out, token, in_text=bool(text_depth))
    return strip_edges(_tidy_alignment("".join(out)))


def _append(out: list[str], token: str, in_text: bool) -> None:
    if out and not in_text:
        prev = out[-1]
        if prev != " " and _needs_space(prev, token):
            out.append(" ")
    out.append(token)


def _tidy_alignment(text: str) -> str:
    """Spaces around ``&``, ``\\\\`` and environment bounds keep tables readable."""
    text = re.sub(r"\s*(?<!\\)&\s*", " & ", text)
    text = re.sub(r"\s*\\\\\s*", r" \\\\ ", text)
    text = re.sub(r"(\\begin\{[a-zA-Z*]+\}(?:\{[^{}]*\})?)\s*", r"\1 ", text)
    text = re.sub(r"\s*(\\end\{)", r" \1", text)
    return re.sub(r" {2,}", " ", text)


def cut_repetition(text: str, min_repeats: int = 4, max_unit: int = 24) -> Cleaned:
    """Cut a degenerate loop (a unit repeated to the end of the output) to one copy.

    Loops usually stop mid-unit at the token limit, so a partial copy of the unit at
    the very end is allowed. Single-token units need twice the repeats:
    ``\\quad\\quad\\quad`` is plausible LaTeX, ``1 1 1 1 1 1 1 1 ...`` is not.
    """
    tokens = [t for t in tokenize(text) if t != " "]
    for unit in range(1, min(max_unit, len(tokens) // 2) + 1):
        need = min_repeats * 2 if unit == 1 else min_repeats
        # A loop can be read at several phases; keep the shortest output.
        cuts = [
            (len(tokens) - partial - (reps - 1) * unit, reps)
            for partial in range(unit)
            if (reps := _repeats_before_tail(tokens, unit, partial)) >= need
        ]
        if cuts:
            end, reps = min(cuts)
            return Cleaned(
                " ".join(tokens[:end]), (f"cut a repetition loop ({reps} copies)",)
            )
    return Cleaned(text)


def _repeats_before_tail(tokens: list[str], unit: int, partial: int) -> int:
    """How many times the unit ending ``partial`` tokens from the end repeats."""
    end = len(tokens) - partial
    pattern = tokens[end - unit : end]
    if len(pattern) < unit or tokens[end:] != pattern[:partial]:
        return 0
    reps = 1
    while (
        end - (reps + 1) * unit >= 0
        and tokens[end - (reps + 1) * unit : end - reps * unit] == pattern
    ):
        reps += 1
    return reps


def close_groups(text: str) -> str:
    r"""Balance ``{}``, ``\left``/``\right`` and ``\begin``/``\end`` in one pass.

    Unmatched closers are dropped (a ``\right`` gets a ``\left.``); openers left open
    by a cut-off output are closed at the end in nesting order, innermost first, so
    ``\left[\begin{matrix} a`` becomes ``\left[\begin{matrix} a \end{matrix}\right.``.
    """
    tokens = tokenize(text)
    out: list[str] = []
    stack: list[str] = []  # "{", "\left", or an environment name
    missing_left = 0
    for i, token in enumerate(tokens):
        if token == "}":
            if "{" not in stack:
                continue
            _pop_last(stack, "{")
        elif token == "{":
            stack.append("{")
        elif token == r"\left":
            stack.append(token)
        elif token == r"\right":
            if r"\left" in stack:
                _pop_last(stack, r"\left")
            else:
                missing_left += 1
        elif token in (r"\begin", r"\end"):
            _track_environment(stack, token, _group_name(tokens, i))
        out.append(token)
    closing = [_closer(entry) for entry in reversed(stack)]
    return r"\left. " * missing_left + "".join(out) + "".join(closing)


def _pop_last(stack: list[str], entry: str) -> None:
    index = len(stack) - 1 - stack[::-1].index(entry)
    del stack[index]


def _group_name(tokens: list[str], index: int) -> str | None:
    """The ``name`` of ``\begin{name}`` starting at ``tokens[index]``."""
    rest = "".join(tokens[index + 1 : index + 40]).lstrip()
    match = re.match(r"\{\s*([a-zA-Z*]+)\s*\}", rest)
    return match.group(1) if match else None


def _track_environment(stack: list[str], token: str, name: str | None) -> None:
    if name is None:
        return
    if token == r"\begin":
        stack.append("env:" + name)
    elif "env:" + name in stack:
        _pop_last(stack, "env:" + name)


def _closer(entry: str) -> str:
    if entry == "{":
        return "}"
    if entry == r"\left":
        return r" \right."
    return rf" \end{{{entry[4:]}}}"


def clean_latex_report(text: str, prompt: str | None = None) -> Cleaned:
    """The whole clean-up, with warnings about what had to be repaired."""
    text = strip_special(text, prompt)
    looped = cut_repetition(text)
    # Canonical form first, so the comparison below only sees what close_groups repaired.
    text = canonical(looped.latex)
    warnings = list(looped.warnings)
    repaired = canonical(close_groups(text))
    if repaired != text:
        warnings.append("repaired unbalanced braces or delimiters")
    return Cleaned(repaired, tuple(warnings))


def clean_latex(text: str, prompt: str | None = None) -> str:
    """Paste-ready LaTeX from raw model text."""
    return clean_latex_report(text, prompt).latex
