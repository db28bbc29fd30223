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
import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import torch
from tokenizers import Tokenizer
from transformers import AutoModelForSeq2SeqLM, GenerationConfig

from model.manifest import update_hints
from model.options import SEED_PROMPT
from training.command import guarded, setup_logging
from training.models.token_selection import (
    BpeVocab,
    PruneError,
    count_tokens,
    coverage,
    prune_tokenizer_json,
    read_corpus,
    remap_config_ids,
    select_tokens,
    split_held_out,
)

logger = logging.getLogger(__name__)

DEFAULT_CORPUS = Path(__file__).resolve().parents[3] / "shared" / "data" / "formulas"
# Files save_pretrained rewrites, or that would contradict the pruned tokenizer.json.
NOT_COPIED = {
    "config.json",
    "generation_config.json",
    "tokenizer.json",
    "tokenizer.model",
    "model.safetensors.index.json",
}


# ----------------------------------------------------------------------------- model


def prune_model(model, kept: list[int]):
    """Slice the tied embedding / LM head to ``kept`` rows, in place."""

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
        update_hints(args.out, cpu={"quantize": "int8-decoder"})
    print(json.dumps({k: v for k, v in report.items() if k != "kept_ids"}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
