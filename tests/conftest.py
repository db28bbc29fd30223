"""Shared fixtures. Qt runs offscreen; models are tiny and built offline."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

REPO = Path(__file__).resolve().parents[1]
# The repository's own fixtures (tests/data/README.md); every default test reads these.
FIXTURES = REPO / "tests" / "data"
MINI_IM2LATEX = "tests/data/im2latex-mini"  # as a recipe names it: from the repo root
FORMULAS = FIXTURES / "formulas"
# The full data sets, beside the repository: only tests marked shared_data read them.
SHARED = REPO.parent / "shared"
IM2LATEX = SHARED / "data" / "im2latex-100k"


def corpus(limit: int = 4000) -> list[str]:
    """Formulas for tokenizer training: both raw and space-tokenised styles."""
    lines: list[str] = []
    for name in ("math_competition", "im2latex_100k"):
        with (FORMULAS / name / "formulas.txt").open(encoding="utf-8") as fh:
            lines += [next(fh).strip() for _ in range(limit // 2)]
    return lines


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory) -> Path:
    """A tiny T5Gemma-2 (same classes, random weights) saved with save_pretrained."""
    from training.models.t5gemma2 import build_t5gemma2

    out = tmp_path_factory.mktemp("tiny-t5gemma2")
    return build_t5gemma2(out, "tiny", corpus(), vocab_size=600, seed=0)
