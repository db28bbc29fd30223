"""Prune a T5Gemma-2 checkpoint's vocabulary to the tokens LaTeX needs.

T5Gemma-2 ties one 262,144 x 640 matrix as encoder embedding, decoder embedding and LM
head; on a CPU that LM head dominates every decoding step. LaTeX uses a few thousand of
those tokens. This tool keeps:

* every token the original tokenizer produces on the formula corpus (``--min-count``),
* every intermediate BPE symbol needed to build those tokens (so that the pruned BPE
  reproduces the original segmentation exactly: see ``bpe_trace``),
* the tokens of the recognizer's prompt (``SEED_PROMPT``, ``--keep-text``),
* all special tokens (pad/eos/bos/unk/mask, image tokens ...; ``<unusedN>`` placeholders
  only with ``--keep-unused``) and the 256 byte-fallback tokens ``<0x00>``-``<0xFF>``.

Out-of-vocabulary text policy: **byte fallback**. A character whose token was dropped is
encoded as its UTF-8 bytes (``<0xNN>`` tokens, always kept), so every string still
round-trips through the pruned tokenizer and ``<unk>`` never appears; such text simply
costs more tokens and was rarely seen in training. The report gives the corpus coverage
(formulas that tokenize exactly as before, on a held-out tenth of the corpus too).

Output: a folder loadable with stock ``AutoModelForSeq2SeqLM`` / ``AutoProcessor``
(tokenizer.json vocab + merges + added tokens remapped, config ids remapped) and a
``snaptex.json`` with the report under ``prune_vocab``.

    python -m training.models.prune_vocab SRC_DIR OUT_DIR [--corpus ../shared/data/formulas]
"""

from __future__ import annotations

import argparse
import json
import logging
import re
import shutil
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import Any

from model.options import SEED_PROMPT

logger = logging.getLogger(__name__)

DEFAULT_CORPUS = Path(__file__).resolve().parents[3] / "shared" / "data" / "formulas"
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
# Files save_pretrained rewrites, or that would contradict the pruned tokenizer.json.
NOT_COPIED = {
    "config.json",
    "generation_config.json",
    "tokenizer.json",
    "tokenizer.model",
    "model.safetensors.index.json",
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


# ----------------------------------------------------------------------------- model


def prune_model(model, kept: list[int]):
    """Slice the tied embedding / LM head to ``kept`` rows, in place."""
    import torch

    keep = torch.tensor(kept, dtype=torch.long)
    encoder_embed = model.model.encoder.text_model.embed_tokens
    decoder_embed = model.model.decoder.embed_tokens
    head = model.lm_head.out_proj
    tied = head.weight.data_ptr() == encoder_embed.weight.data_ptr()
    decoder_tied = decoder_embed.weight.data_ptr() == encoder_embed.weight.data_ptr()
    shared = torch.nn.Parameter(encoder_embed.weight.data[keep].clone())
    decoder_embed.weight = (
        shared
        if decoder_tied
        else torch.nn.Parameter(decoder_embed.weight.data[keep].clone())
    )
    encoder_embed.weight = shared
    for embed in (encoder_embed, decoder_embed):
        embed.num_embeddings = len(kept)
    new_head = torch.nn.Linear(
        head.in_features, len(kept), bias=head.bias is not None, dtype=head.weight.dtype
    )
    new_head.weight = (
        shared if tied else torch.nn.Parameter(head.weight.data[keep].clone())
    )
    if head.bias is not None:
        new_head.bias = torch.nn.Parameter(head.bias.data[keep].clone())
    model.lm_head.out_proj = new_head
    model.vocab_size = len(kept)
    return model


def pruned_config(config, kept: list[int]):
    """The config with vocab sizes = len(kept) and every token id remapped."""
    old_to_new = {old: new for new, old in enumerate(kept)}
    data = remap_config_ids(config.to_dict(), old_to_new)
    data["decoder"]["vocab_size"] = len(kept)
    data["encoder"]["text_config"]["vocab_size"] = len(kept)
    if "vocab_size" in data:
        data["vocab_size"] = len(kept)
    return type(config).from_dict(data)


def copy_processor_files(src: Path, dst: Path, old_to_new: dict[int, int]) -> None:
    """Copy the non-weight files; tokenizer_config's id-keyed tables are remapped."""
    for item in src.iterdir():
        if (
            item.name in NOT_COPIED
            or item.suffix in (".safetensors", ".bin")
            or item.is_dir()
        ):
            continue
        shutil.copy2(item, dst / item.name)
    config_path = dst / "tokenizer_config.json"
    if config_path.is_file():
        data = json.loads(config_path.read_text(encoding="utf-8"))
        table = data.get("added_tokens_decoder")
        if isinstance(table, dict):
            data["added_tokens_decoder"] = {
                str(old_to_new[int(k)]): v
                for k, v in table.items()
                if int(k) in old_to_new
            }
        config_path.write_text(
            json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
        )


# ----------------------------------------------------------------------------- driver


def prune_checkpoint(
    src: str | Path,
    dst: str | Path,
    formulas: list[str],
    *,
    min_count: int = 1,
    keep_unused: bool = False,
    keep_texts: Iterable[str] = (SEED_PROMPT,),
) -> dict[str, Any]:
    """Write the pruned checkpoint + processor to ``dst``; returns the report."""
    from tokenizers import Tokenizer

    src, dst = Path(src), Path(dst)
    tokenizer_path = src / "tokenizer.json"
    if not (src / "config.json").is_file() or not tokenizer_path.is_file():
        raise PruneError(
            f"{src} is not a model folder with config.json and tokenizer.json"
        )
    if dst.resolve() == src.resolve():
        raise PruneError("the output folder must differ from the input folder")
    data = json.loads(tokenizer_path.read_text(encoding="utf-8"))
    original = Tokenizer.from_str(json.dumps(data))
    seen, held = split_held_out(formulas)
    bpe = BpeVocab.from_tokenizer_json(data)
    counts = count_tokens(original, seen)
    for token_id in count_tokens(original, list(keep_texts)):
        counts[token_id] += min_count  # the prompt must tokenize exactly as before
    kept = select_tokens(bpe, counts, min_count, keep_unused)
    old_to_new = {old: new for new, old in enumerate(kept)}
    pruned_json = prune_tokenizer_json(data, kept)
    pruned = Tokenizer.from_str(json.dumps(pruned_json))
    report = {
        "source": str(src),
        "original_vocab": original.get_vocab_size(),
        "kept_vocab": len(kept),
        "min_count": min_count,
        "keep_unused": keep_unused,
        "oov_policy": "byte_fallback",
        "coverage_seen": coverage(original, pruned, seen, old_to_new),
        "coverage_held_out": coverage(original, pruned, held, old_to_new),
        "kept_ids": kept,
    }
    write_checkpoint(src, dst, kept, pruned_json, report)
    return report


def write_checkpoint(
    src: Path,
    dst: Path,
    kept: list[int],
    tokenizer_json: dict[str, Any],
    report: dict[str, Any],
) -> None:
    from transformers import AutoModelForSeq2SeqLM, GenerationConfig

    from model.manifest import update_hints

    old_to_new = {old: new for new, old in enumerate(kept)}
    model = AutoModelForSeq2SeqLM.from_pretrained(src, dtype="auto")
    prune_model(model, kept)
    model.config = pruned_config(model.config, kept)
    generation = remap_config_ids(model.generation_config.to_dict(), old_to_new)
    model.generation_config = GenerationConfig.from_dict(generation)
    dst.mkdir(parents=True, exist_ok=True)
    copy_processor_files(src, dst, old_to_new)
    model.save_pretrained(dst)
    (dst / "tokenizer.json").write_text(
        json.dumps(tokenizer_json, ensure_ascii=False), encoding="utf-8"
    )
    summary = {k: v for k, v in report.items() if k != "kept_ids"}
    update_hints(dst, prune_vocab=summary)
    (dst / "prune_vocab_kept_ids.json").write_text(json.dumps(kept), encoding="utf-8")
    logger.info(
        "pruned %d -> %d tokens into %s", report["original_vocab"], len(kept), dst
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m training.models.prune_vocab", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("model", help="T5Gemma-2 checkpoint folder")
    parser.add_argument("out", help="output folder for the pruned checkpoint")
    parser.add_argument(
        "--corpus",
        nargs="+",
        default=[str(DEFAULT_CORPUS)],
        help="formula files or folders (*/formulas.txt)",
    )
    parser.add_argument(
        "--limit", type=int, default=None, help="use the first N formulas"
    )
    parser.add_argument(
        "--min-count",
        type=int,
        default=1,
        help="drop corpus tokens seen fewer times (default 1: keep all)",
    )
    parser.add_argument(
        "--keep-text",
        nargs="*",
        default=[SEED_PROMPT],
        help="texts that must keep their exact tokens (default: the prompt)",
    )
    parser.add_argument(
        "--keep-unused",
        action="store_true",
        help="also keep Gemma's <unusedN> placeholder tokens",
    )
    parser.add_argument(
        "--int8-decoder",
        action="store_true",
        help="mark the folder for int8 decoding on CPU (snaptex.json cpu.quantize): "
        "~2x faster per token than the pruned model in fp32 or bf16 (README figures)",
    )
    args = parser.parse_args(argv)
    from training.command import guarded, setup_logging

    setup_logging()
    return guarded("prune_vocab", lambda: prune_and_report(args),
                   (PruneError, OSError, ValueError))


def prune_and_report(args: argparse.Namespace) -> int:
    report = prune_checkpoint(
        args.model,
        args.out,
        read_corpus(args.corpus, args.limit),
        min_count=max(1, args.min_count),
        keep_unused=args.keep_unused,
        keep_texts=args.keep_text,
    )
    if args.int8_decoder:
        from model.manifest import update_hints

        update_hints(args.out, cpu={"quantize": "int8-decoder"})
    print(json.dumps({k: v for k, v in report.items() if k != "kept_ids"}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
