"""Build T5Gemma-2 checkpoints offline: the exact 270M-270M shape or tiny test shapes.

The hub is unreachable in many places SnapTeX runs (CI, air-gapped laptops), so tests,
benchmarks and new training runs build the model *shape* locally with random weights
and a LaTeX tokenizer trained on a formula corpus. Everything is saved with
``save_pretrained`` so it loads through the same Auto classes as a hub checkpoint.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import torch
from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, trainers
from transformers import (
    AutoModelForSeq2SeqLM,
    Gemma3ImageProcessorPil,
    Gemma3Processor,
    GemmaTokenizer,
    GenerationConfig,
    SiglipVisionConfig,
    T5Gemma2Config,
)
from transformers.models.t5gemma2.configuration_t5gemma2 import (
    T5Gemma2DecoderConfig,
    T5Gemma2EncoderConfig,
    T5Gemma2TextConfig,
)

logger = logging.getLogger(__name__)

PAD, EOS, BOS, UNK, MASK = "<pad>", "<eos>", "<bos>", "<unk>", "<mask>"
BOI, EOI, IMAGE = "<start_of_image>", "<end_of_image>", "<image_soft_token>"
SPECIAL_TOKENS = [PAD, EOS, BOS, UNK, MASK, BOI, EOI, IMAGE]


@dataclass(frozen=True)
class T5Gemma2Shape:
    """The sizes that matter; everything else follows the released checkpoint."""

    hidden: int
    layers: int
    heads: int
    kv_heads: int
    head_dim: int
    mlp: int
    vision_image: int
    vision_patch: int
    vision_hidden: int
    vision_layers: int
    vision_heads: int
    vision_mlp: int
    mm_tokens: int
    sliding_window: int = 512


SHAPES: dict[str, T5Gemma2Shape] = {
    # google/t5gemma-2-270m-270m (see shared/docs/t5gemma2-facts.md).
    "270m-270m": T5Gemma2Shape(
        hidden=640,
        layers=18,
        heads=4,
        kv_heads=1,
        head_dim=256,
        mlp=2048,
        vision_image=896,
        vision_patch=14,
        vision_hidden=1152,
        vision_layers=27,
        vision_heads=16,
        vision_mlp=4304,
        mm_tokens=256,
    ),
    # Same classes and code paths, small enough for a unit test on CPU.
    "tiny": T5Gemma2Shape(
        hidden=64,
        layers=2,
        heads=2,
        kv_heads=1,
        head_dim=32,
        mlp=128,
        vision_image=64,
        vision_patch=16,
        vision_hidden=64,
        vision_layers=2,
        vision_heads=2,
        vision_mlp=128,
        mm_tokens=4,
        sliding_window=64,
    ),
}


def t5gemma2_config(
    shape: T5Gemma2Shape, vocab_size: int, image_token_id: int, boi_id: int, eoi_id: int
):
    """A ``T5Gemma2Config`` for ``shape`` (the bare defaults are 2B-sized)."""

    period = 6  # five sliding-window layers then one global, as released
    layer_types = [
        "full_attention" if (i + 1) % period == 0 else "sliding_attention"
        for i in range(shape.layers)
    ]
    text = dict(
        vocab_size=vocab_size,
        hidden_size=shape.hidden,
        intermediate_size=shape.mlp,
        num_hidden_layers=shape.layers,
        num_attention_heads=shape.heads,
        num_key_value_heads=shape.kv_heads,
        head_dim=shape.head_dim,
        query_pre_attn_scalar=shape.head_dim,
        sliding_window=shape.sliding_window,
        layer_types=layer_types,
        max_position_embeddings=4096,
        pad_token_id=0,
        eos_token_id=1,
        bos_token_id=2,
    )
    vision = SiglipVisionConfig(
        hidden_size=shape.vision_hidden,
        intermediate_size=shape.vision_mlp,
        num_hidden_layers=shape.vision_layers,
        num_attention_heads=shape.vision_heads,
        image_size=shape.vision_image,
        patch_size=shape.vision_patch,
        vision_use_head=False,
    )
    encoder = T5Gemma2EncoderConfig(
        text_config=T5Gemma2TextConfig(**text),
        vision_config=vision,
        mm_tokens_per_image=shape.mm_tokens,
        boi_token_index=boi_id,
        eoi_token_index=eoi_id,
        image_token_index=image_token_id,
    )
    decoder = T5Gemma2DecoderConfig(**text)
    return T5Gemma2Config(
        encoder=encoder,
        decoder=decoder,
        image_token_index=image_token_id,
        pad_token_id=0,
        eos_token_id=1,
        bos_token_id=2,
        decoder_start_token_id=2,
    )


def train_latex_tokenizer(formulas: Iterable[str], vocab_size: int = 1000):
    """A byte-fallback BPE ``GemmaTokenizer`` sized for LaTeX, with Gemma's image tokens.

    Ids 0-2 are pad/eos/bos as in Gemma, so configs keep the released special ids.
    """

    byte_tokens = [f"<0x{i:02X}>" for i in range(256)]
    bpe = Tokenizer(models.BPE(unk_token=UNK, byte_fallback=True))
    bpe.normalizer = normalizers.Replace(" ", "▁")
    bpe.pre_tokenizer = pre_tokenizers.Split(pattern="▁", behavior="merged_with_next")
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=SPECIAL_TOKENS + byte_tokens,
        show_progress=False,
        initial_alphabet=list("▁\\{}^_()[]=+-*/,.|0123456789"),
    )
    bpe.train_from_iterator((f for f in formulas if f.strip()), trainer=trainer)
    state = bpe.model
    vocab = bpe.get_vocab()
    merges = _merges_of(bpe)
    del state
    return GemmaTokenizer(
        vocab=vocab,
        merges=merges,
        extra_special_tokens={"image_token": IMAGE, "boi_token": BOI, "eoi_token": EOI},
    )


def _merges_of(tokenizer) -> list[tuple[str, str]]:
    model = json.loads(tokenizer.to_str())["model"]
    return [
        tuple(m) if isinstance(m, list) else tuple(m.split(" ", 1))
        for m in model["merges"]
    ]


def build_processor(tokenizer, image_size: int, mm_tokens: int):
    """``Gemma3Processor`` (what ``AutoProcessor`` returns for T5Gemma-2)."""

    image_processor = Gemma3ImageProcessorPil(
        size={"height": image_size, "width": image_size},
        image_mean=[0.5, 0.5, 0.5],
        image_std=[0.5, 0.5, 0.5],
    )
    return Gemma3Processor(
        image_processor=image_processor, tokenizer=tokenizer, image_seq_length=mm_tokens
    )


def build_t5gemma2(
    out_dir: str | Path,
    shape: str | T5Gemma2Shape,
    formulas: Iterable[str],
    vocab_size: int = 1000,
    seed: int = 0,
    dtype: str = "float32",
) -> Path:
    """Build and save a randomly initialised T5Gemma-2 plus processor in ``out_dir``."""

    shape = SHAPES[shape] if isinstance(shape, str) else shape
    tokenizer = train_latex_tokenizer(formulas, vocab_size)
    processor = build_processor(tokenizer, shape.vision_image, shape.mm_tokens)
    config = t5gemma2_config(
        shape,
        len(tokenizer),
        tokenizer.image_token_id,
        tokenizer.convert_tokens_to_ids(BOI),
        tokenizer.convert_tokens_to_ids(EOI),
    )
    torch.manual_seed(seed)
    model = AutoModelForSeq2SeqLM.from_config(config, dtype=getattr(torch, dtype))
    model.generation_config = GenerationConfig(
        bos_token_id=2,
        eos_token_id=1,
        pad_token_id=0,
        decoder_start_token_id=2,
        max_new_tokens=256,
    )
    out = Path(out_dir)
    model.save_pretrained(out)
    processor.save_pretrained(out)
    logger.info("built %s T5Gemma-2 (%d tokens) in %s", shape, len(tokenizer), out)
    return out
