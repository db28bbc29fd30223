"""Which tokens a pruned T5Gemma-2 vocabulary keeps, and how ids map to the new ones.

The pure half of :mod:`training.models.prune_vocab`: a BPE vocabulary read from
``tokenizer.json``, the closure of BPE symbols a kept token is built from, the pruned
``tokenizer.json`` and config id tables, the formula corpus and its coverage. Nothing
here touches the model's weights.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import Any

BYTE_TOKEN = re.compile(r"^<0x[0-9A-F]{2}>$")
UNUSED_TOKEN = re.compile(r"^<unused\d+>$")
# Config / generation-config fields holding token ids (at any nesting level).
ID_FIELDS = {
    "pad_token_id",
    "eos_token_id",
    "bos_token_id",
    "decoder_start_token_id",
    "image_token_index",
    "boi_token_index",
    "eoi_token_index",
    "image_token_id",
    "boi_token_id",
    "eoi_token_id",
    "sep_token_id",
    "unk_token_id",
    "mask_token_id",
}

class PruneError(Exception):
    """Bad input for pruning (shown as a one-line error by the CLI)."""


# ----------------------------------------------------------------------------- BPE


@dataclass
class BpeVocab:
    """The parts of a tokenizer.json that pruning rewrites."""

    vocab: dict[str, int]  # model.vocab
    merges: list[tuple[str, str]]
    added: list[dict[str, Any]]  # added_tokens entries

    @classmethod
    def from_tokenizer_json(cls, data: dict[str, Any]) -> BpeVocab:
        model = data.get("model", {})
        if model.get("type") != "BPE":
            raise PruneError(
                f"expected a BPE tokenizer.json, got {model.get('type')!r}"
            )
        merges = [
            tuple(m) if isinstance(m, list) else tuple(m.split(" ", 1))
            for m in model.get("merges", [])
        ]
        return cls(dict(model["vocab"]), merges, list(data.get("added_tokens", [])))

    def id_to_token(self) -> dict[int, str]:
        table = {i: t for t, i in self.vocab.items()}
        table.update({a["id"]: a["content"] for a in self.added})
        return table


def bpe_trace(
    text: str, ranks: dict[tuple[str, str], int], vocab: dict[str, int]
) -> set[str]:
    """Every symbol BPE forms while encoding ``text`` alone (HF tokenizers' order:
    lowest merge rank first, leftmost on ties).

    A token that appears in an encoding was built inside its own span only, by the same
    merges as when encoded alone, so keeping this trace (and the merges between kept
    symbols) makes the pruned BPE reproduce the original segmentation exactly.
    """
    symbols = list(text)
    seen = {s for s in symbols if s in vocab}
    while len(symbols) > 1:
        best = min(
            (
                (ranks[pair], i)
                for i, pair in enumerate(pairwise(symbols))
                if pair in ranks
            ),
            default=None,
        )
        if best is None:
            break
        i = best[1]
        symbols[i : i + 2] = [symbols[i] + symbols[i + 1]]
        seen.add(symbols[i])
    return seen


def select_tokens(
    bpe: BpeVocab, counts: Counter, min_count: int = 1, keep_unused: bool = False
) -> list[int]:
    """Old ids to keep, ascending (so pad/eos/bos keep ids 0/1/2)."""
    id_to_token = bpe.id_to_token()
    added_ids = {a["id"] for a in bpe.added}
    keep = {
        a["id"]
        for a in bpe.added
        if a.get("special") and (keep_unused or not UNUSED_TOKEN.match(a["content"]))
    }
    keep |= {i for t, i in bpe.vocab.items() if BYTE_TOKEN.match(t)}
    used = {i for i, n in counts.items() if n >= min_count and i in id_to_token}
    keep |= used & added_ids  # added tokens are matched whole, not built by merges
    ranks = {pair: rank for rank, pair in enumerate(bpe.merges)}
    for token_id in used - added_ids:
        for symbol in bpe_trace(id_to_token[token_id], ranks, bpe.vocab):
            keep.add(bpe.vocab[symbol])
    return sorted(keep)


def prune_tokenizer_json(data: dict[str, Any], kept: list[int]) -> dict[str, Any]:
    """A copy of tokenizer.json restricted to ``kept`` old ids, renumbered 0..K-1."""
    bpe = BpeVocab.from_tokenizer_json(data)
    old_to_new = {old: new for new, old in enumerate(kept)}
    vocab = {t: old_to_new[i] for t, i in bpe.vocab.items() if i in old_to_new}
    merges = [
        [a, b] for a, b in bpe.merges if a in vocab and b in vocab and a + b in vocab
    ]
    added = [
        {**a, "id": old_to_new[a["id"]]} for a in bpe.added if a["id"] in old_to_new
    ]
    out = json.loads(json.dumps(data))
    out["model"]["vocab"] = vocab
    out["model"]["merges"] = merges
    out["added_tokens"] = added
    out["post_processor"] = remap_ids_in(
        out.get("post_processor"), old_to_new, key="ids"
    )
    return out


def remap_ids_in(node: Any, old_to_new: dict[int, int], key: str) -> Any:
    """Remap every int (or list of ints) under a ``key`` field anywhere in ``node``."""
    if isinstance(node, dict):
        return {
            k: (
                _remap_value(v, old_to_new, k)
                if k == key
                else remap_ids_in(v, old_to_new, key)
            )
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [remap_ids_in(v, old_to_new, key) for v in node]
    return node


def _remap_value(value: Any, old_to_new: dict[int, int], name: str) -> Any:
    if value is None:
        return None
    if isinstance(value, list):
        return [_remap_value(v, old_to_new, name) for v in value]
    if int(value) not in old_to_new:
        raise PruneError(f"{name}={value} is not a kept token")
    return old_to_new[int(value)]


def remap_config_ids(data: Any, old_to_new: dict[int, int]) -> Any:
    """Remap every token-id field (``ID_FIELDS``) in a config dict, at any depth."""
    if isinstance(data, list):
        return [remap_config_ids(v, old_to_new) for v in data]
    if not isinstance(data, dict):
        return data
    return {
        k: (
            _remap_value(v, old_to_new, k)
            if k in ID_FIELDS
            else remap_config_ids(v, old_to_new)
        )
        for k, v in data.items()
    }


# ----------------------------------------------------------------------------- corpus


def read_corpus(paths: Iterable[str | Path], limit: int | None = None) -> list[str]:
    """Formulas, one per line, from files or folders (``*/formulas.txt`` inside)."""
    formulas: list[str] = []
    for path in map(Path, paths):
        files = (
            sorted(path.glob("*/formulas.txt")) + sorted(path.glob("formulas.txt"))
            if path.is_dir()
            else [path]
        )
        if not files or not all(f.is_file() for f in files):
            raise PruneError(f"no formula file at {path}")
        for file in files:
            with file.open(encoding="utf-8") as fh:
                formulas += [line.strip() for line in fh if line.strip()]
    if limit:
        formulas = formulas[:limit]
    if not formulas:
        raise PruneError("the formula corpus is empty")
    return formulas


def split_held_out(formulas: list[str], every: int = 10) -> tuple[list[str], list[str]]:
    """Every ``every``-th formula is held out to measure coverage on unseen text."""
    held = formulas[::every]
    seen = [f for i, f in enumerate(formulas) if i % every]
    return seen, held


def count_tokens(tokenizer, formulas: list[str]) -> Counter:
    counts: Counter = Counter()
    for encoding in tokenizer.encode_batch(formulas, add_special_tokens=False):
        counts.update(encoding.ids)
    return counts


def coverage(
    original, pruned, formulas: list[str], old_to_new: dict[int, int]
) -> dict[str, Any]:
    """How the pruned tokenizer treats ``formulas`` compared with the original."""
    byte_ids = {i for t, i in pruned.get_vocab().items() if BYTE_TOKEN.match(t)}
    before = original.encode_batch(formulas, add_special_tokens=False)
    after = pruned.encode_batch(formulas, add_special_tokens=False)
    identical = roundtrip = with_bytes = 0
    tokens_before = tokens_after = 0
    for old, new in zip(before, after, strict=True):
        identical += [old_to_new.get(i, -1) for i in old.ids] == new.ids
        roundtrip += pruned.decode(
            new.ids, skip_special_tokens=False
        ) == original.decode(old.ids, skip_special_tokens=False)
        with_bytes += any(i in byte_ids for i in new.ids) and not any(
            i in byte_ids for i in old.ids
        )
        tokens_before += len(old.ids)
        tokens_after += len(new.ids)
    n = max(1, len(formulas))
    return {
        "formulas": len(formulas),
        "identical_pct": 100 * identical / n,
        "roundtrip_pct": 100 * roundtrip / n,
        "new_byte_fallback_pct": 100 * with_bytes / n,
        "tokens_per_formula_before": tokens_before / n,
        "tokens_per_formula_after": tokens_after / n,
    }
