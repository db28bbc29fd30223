"""LaTeX rewritten into the subset matplotlib's mathtext draws (pure, standard library).

Shared by the app's preview (desktop_app/preview.py) and the self-check's render round
trip (model/selfcheck/roundtrip.py), so what the user sees previewed is what the check
compared with the snip.
"""

from __future__ import annotations

import re

# (pattern, replacement) applied in order; each exists because mathtext rejects the
# left-hand side while the right-hand side renders the same maths.
REWRITES: tuple[tuple[str, str], ...] = (
    (r"\\(displaystyle|textstyle|scriptstyle|limits|nolimits|nonumber|notag)(?![A-Za-z])\s*",
     ""),
    (r"\\[dt]frac(?![A-Za-z])", r"\\frac"),
    (r"\\(text|textrm|textnormal|mbox|mathrm|operatorname\*?)\s*\{", r"\\mathrm{"),
    (r"\\textbf\s*\{", r"\\mathbf{"),
    (r"\\(textit|emph)\s*\{", r"\\mathit{"),
    (r"\\(boldsymbol|bm)\s*\{", r"\\mathbf{"),
    # Environments have no mathtext form: keep their cells, drop the wrapper.
    (r"\\begin\s*\{[a-zA-Z*]+\}(\s*\{[lcr|\s]*\})?", ""),  # array column spec too
    (r"\\end\s*\{[a-zA-Z*]+\}", ""),
    (r"\\(big|Big|bigg|Bigg)[lrm]?(?![A-Za-z])\s*", ""),
    (r"\\\\", r"\\quad "),  # line breaks: show the rows side by side
    (r"(?<!\\)&", r"\\quad "),
    (r"\\(hline|cr)(?![A-Za-z])", ""),
    (r"\s+", " "),
)


def to_mathtext(latex: str) -> str:
    """Rewrite LaTeX into the subset mathtext parses."""
    text = latex.strip()
    for pattern, replacement in REWRITES:
        text = re.sub(pattern, replacement, text)
    return text.strip()
