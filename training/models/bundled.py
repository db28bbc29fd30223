"""The bundled model: a small ResNet + ViT encoder + MBart decoder with a LaTeX-sized vocabulary.

Why this shape (measured on the 2-core AMX machine, see the model card in model/bundled/
and ADR-004 in the README): formulas are wide (im2latex aspect ratio 2.5-8, height 40-60
px), so the encoder takes a fixed wide canvas (64 x 1024) filled by
``DonutImageProcessorPil`` (aspect-preserving resize + pad). Trained from scratch on CPU,
a decoder learns LaTeX as a language long before it reads the pixels; a convolutional
encoder (transformers' DPT-hybrid: a BiT ResNet to stride 16, then ViT layers with learned
absolute positions, pix2tex's shape) starts reading several times sooner than a Swin
encoder of the same size. Swin (a few seconds to build and train) stays as the ``tiny``
test shape's encoder, a plain ViT as an option.
Everything is a stock transformers class, so ``AutoModel``/``AutoProcessor`` reload it
without remote code.
"""

from __future__ import annotations

import dataclasses
import logging
import math
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers
from tokenizers.trainers import BpeTrainer
from transformers import (
    BitConfig,
    DonutImageProcessorPil,
    DonutProcessor,
    DonutSwinConfig,
    DPTConfig,
    GenerationConfig,
    MBartConfig,
    PreTrainedTokenizerFast,
    SwinConfig,
    VisionEncoderDecoderConfig,
    VisionEncoderDecoderModel,
    ViTConfig,
)

from model.postprocess import clean_latex
from training.data.collators import ImagePreparer
from training.data.sources import load_split, select_rows
from training.models.builders import formulas_dir
from training.models.pretrained import load_pretrained_from
from training.recipe import output_dir_of

logger = logging.getLogger(__name__)

PAD, EOS, BOS, UNK = "<pad>", "<eos>", "<bos>", "<unk>"
PAD_ID, EOS_ID, BOS_ID, UNK_ID = 0, 1, 2, 3  # Gemma's layout, as training.models.t5gemma2 uses
# Pre-tokens: a command (\frac, \{), or a run of anything else. BPE merges only inside
# a pre-token, so it learns `^{2}` and `}{` but never glues `2}\` across a command.
LATEX_PRETOKEN = r"\\[A-Za-z]+\*?|\\.|[^\\]+"
# The app may ask for up to 2048 new tokens (model.options); a shorter position table
# would crash generation with an IndexError instead of just stopping at the limit.
MAX_POSITIONS = 2048 + 16


@dataclass(frozen=True)
class BundledShape:
    """The sizes that matter for accuracy, speed and disk size."""

    image_height: int = 64
    image_width: int = 512
    patch: int = 4
    embed_dim: int = 64  # doubles per Swin stage: 64, 128, 256
    depths: tuple[int, ...] = (2, 2, 6)
    heads: tuple[int, ...] = (2, 4, 8)
    window: int = 4  # must not exceed the last stage height (64/16 = 4)
    decoder_layers: int = 4
    decoder_heads: int = 4
    decoder_ffn: int = 1024
    max_target_tokens: int = 256
    vocab_size: int = 1000
    dropout: float = 0.1
    # Swin has only window-relative position biases: without a learned absolute table the
    # decoder's cross-attention sees a bag of features and cannot tell left from right.
    # Measured: with it off, 38k samples left the decoder ignoring the image (loss with
    # shuffled images within 3% of the real loss).
    absolute_positions: bool = True
    # "swin"; "vit" (one stage of ``depths[0]`` layers of width embed_dim); or "hybrid":
    # a ResNet (BiT)
    # to stride 16, then ``depths[0]`` ViT layers of width ``embed_dim`` with learned
    # absolute positions (pix2tex's shape, as the stock DPT-hybrid encoder).
    encoder: str = "swin"
    cnn_stem: int = 32  # hybrid only: the ResNet's stem width and its stages' widths/depths
    cnn_widths: tuple[int, ...] = (64, 128, 256)
    cnn_depths: tuple[int, ...] = (2, 2, 2)

    @property
    def encoder_width(self) -> int:
        if self.encoder in ("vit", "hybrid"):
            return self.embed_dim
        return self.embed_dim * 2 ** (len(self.depths) - 1)

    @classmethod
    def from_dict(cls, data: dict | None) -> BundledShape:
        data = dict(data or {})
        for key in ("depths", "heads", "cnn_widths", "cnn_depths"):
            if key in data:
                data[key] = tuple(data[key])
        return cls(**data)

    def to_dict(self) -> dict:
        return asdict(self)


SHAPES: dict[str, BundledShape] = {
    # The shipped shape: ResNet + ViT encoder on a 64x1024 canvas (4x64 tokens), 4-layer
    # decoder, all of width 256 (~8M parameters).
    "bundled": BundledShape(image_height=64, image_width=1024, embed_dim=256, depths=(4,),
                            heads=(4,), encoder="hybrid", vocab_size=800),
    # Same classes and code paths, small enough for a unit test (a few seconds on CPU).
    "tiny": BundledShape(image_height=32, image_width=128, embed_dim=16, depths=(1, 1),
                         heads=(1, 2), window=4, decoder_layers=1, decoder_heads=2,
                         decoder_ffn=64, max_target_tokens=64, vocab_size=400),
    "tiny-hybrid": BundledShape(image_height=32, image_width=512, embed_dim=16, depths=(1,),
                                heads=(2,), encoder="hybrid", cnn_stem=8,
                                cnn_widths=(8, 16, 16), cnn_depths=(1, 1, 1),
                                decoder_layers=1, decoder_heads=2, decoder_ffn=64,
                                max_target_tokens=64, vocab_size=400),
}


def model_config(shape: BundledShape, vocab_size: int):
    """A ``VisionEncoderDecoderConfig`` (DonutSwin encoder, MBart decoder)."""
    encoder = encoder_config(shape)
    # MBart's decoder is pre-LayerNorm (as in Donut): a post-LN decoder (TrOCR) trained
    # from scratch with a short warm-up collapsed to near-uniform output (measured).
    decoder = MBartConfig(
        vocab_size=vocab_size, d_model=shape.encoder_width,
        # MBart sizes its KV cache by encoder_layers (num_hidden_layers): keep them equal.
        encoder_layers=shape.decoder_layers,
        decoder_layers=shape.decoder_layers, decoder_attention_heads=shape.decoder_heads,
        decoder_ffn_dim=shape.decoder_ffn, max_position_embeddings=MAX_POSITIONS,
        dropout=shape.dropout, attention_dropout=0.0, activation_dropout=0.0,
        activation_function="gelu", scale_embedding=True, tie_word_embeddings=True,
        pad_token_id=PAD_ID, bos_token_id=BOS_ID, eos_token_id=EOS_ID,
        decoder_start_token_id=BOS_ID, forced_eos_token_id=None,
    )
    config = VisionEncoderDecoderConfig.from_encoder_decoder_configs(encoder, decoder)
    config.pad_token_id, config.eos_token_id = PAD_ID, EOS_ID
    config.decoder_start_token_id = config.bos_token_id = BOS_ID
    config.tie_word_embeddings = False  # encoder and decoder share nothing
    return config


def encoder_config(shape: BundledShape):
    """The vision encoder's config: Swin (DonutSwin without absolute positions), a plain
    ViT or the ResNet + ViT hybrid, as ``shape.encoder`` says."""
    size = [shape.image_height, shape.image_width]
    if shape.encoder == "vit":
        return ViTConfig(
            image_size=size, patch_size=shape.patch, num_channels=3,
            hidden_size=shape.embed_dim, num_hidden_layers=shape.depths[0],
            num_attention_heads=shape.heads[0], intermediate_size=4 * shape.embed_dim,
            hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0,
        )
    if shape.encoder == "hybrid":
        return hybrid_config(shape)
    if shape.encoder != "swin":
        raise ValueError(f"unknown bundled encoder {shape.encoder!r} "
                         "(swin, vit, hybrid)")
    # DonutSwin sizes its absolute table for a CLS token it never adds (a crash in
    # transformers 5.x), so the absolute-position variant uses the plain Swin classes.
    swin = SwinConfig if shape.absolute_positions else DonutSwinConfig
    return swin(
        image_size=size, patch_size=shape.patch, num_channels=3,
        embed_dim=shape.embed_dim, depths=list(shape.depths), num_heads=list(shape.heads),
        window_size=shape.window, use_absolute_embeddings=shape.absolute_positions,
        hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0, drop_path_rate=0.05,
    )


HYBRID_STRIDE = 16  # the BiT stem (4) and two strided stages (x2, x2)


def hybrid_grid(shape: BundledShape) -> tuple[int, int]:
    """The hybrid encoder's token grid (rows, columns) for the canvas."""
    if shape.image_height % HYBRID_STRIDE or shape.image_width % HYBRID_STRIDE:
        raise ValueError(f"the hybrid encoder needs a canvas in multiples of "
                         f"{HYBRID_STRIDE} px, not {shape.image_height}x{shape.image_width}")
    rows, cols = shape.image_height // HYBRID_STRIDE, shape.image_width // HYBRID_STRIDE
    # DPT stores its position table as a square grid and resizes it to the canvas's.
    if math.isqrt(rows * cols) ** 2 != rows * cols:
        raise ValueError(f"the hybrid encoder's {rows}x{cols} token grid must hold a square "
                         "number of tokens (e.g. 64x1024, 48x768)")
    return rows, cols


def hybrid_config(shape: BundledShape):
    """DPT-hybrid: BiT ResNet stages to stride 16, a 1x1 projection, learned absolute
    positions and ViT layers. The convolutions give a from-scratch encoder the locality a
    plain ViT or Swin must learn from data."""
    if len(shape.cnn_widths) != 3 or len(shape.cnn_depths) != 3:
        raise ValueError("the hybrid encoder has exactly three ResNet stages")
    rows, cols = hybrid_grid(shape)
    backbone = BitConfig(
        embedding_size=shape.cnn_stem, hidden_sizes=list(shape.cnn_widths),
        depths=list(shape.cnn_depths), layer_type="bottleneck", global_padding="SAME",
        num_groups=min(8, shape.cnn_stem), out_features=["stage1", "stage2", "stage3"],
    )
    config = DPTConfig(
        is_hybrid=True, backbone_config=backbone, image_size=[shape.image_height,
                                                              shape.image_width],
        patch_size=HYBRID_STRIDE, hidden_size=shape.embed_dim,
        num_hidden_layers=shape.depths[0], num_attention_heads=shape.heads[0],
        intermediate_size=4 * shape.embed_dim,
        backbone_featmap_shape=[1, shape.cnn_widths[-1], rows, cols],
        hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0,
    )
    return config


def train_tokenizer(formulas: Iterable[str], vocab_size: int):
    """Byte-fallback BPE over LaTeX-aware pre-tokens, as a standard fast tokenizer."""
    bpe = Tokenizer(models.BPE(unk_token=UNK, byte_fallback=True))
    bpe.normalizer = normalizers.Replace(" ", "▁")
    bpe.pre_tokenizer = pre_tokenizers.Split(Regex(LATEX_PRETOKEN), behavior="isolated")
    bpe.decoder = decoders.Sequence([decoders.Replace("▁", " "), decoders.ByteFallback(),
                                     decoders.Fuse()])
    trainer = BpeTrainer(
        vocab_size=vocab_size, show_progress=False,
        special_tokens=[PAD, EOS, BOS, UNK] + [f"<0x{i:02X}>" for i in range(256)],
        initial_alphabet=list("▁\\{}^_()[]=+-*/,.|&0123456789"),
    )
    bpe.train_from_iterator((f for f in formulas if f.strip()), trainer=trainer)
    return PreTrainedTokenizerFast(
        tokenizer_object=bpe, pad_token=PAD, eos_token=EOS, bos_token=BOS,
        unk_token=UNK, clean_up_tokenization_spaces=False,
    )


def build_processor(tokenizer, shape: BundledShape):
    """``DonutProcessor``: aspect-preserving resize into the wide canvas, then pad."""
    image_processor = DonutImageProcessorPil(
        size={"height": shape.image_height, "width": shape.image_width},
        do_align_long_axis=False, do_thumbnail=True, do_pad=True,
        image_mean=[0.5, 0.5, 0.5], image_std=[0.5, 0.5, 0.5],
    )
    return DonutProcessor(image_processor=image_processor, tokenizer=tokenizer)


def generation_config(shape: BundledShape):
    return GenerationConfig(
        bos_token_id=BOS_ID, eos_token_id=EOS_ID, pad_token_id=PAD_ID,
        decoder_start_token_id=BOS_ID, max_new_tokens=shape.max_target_tokens,
        num_beams=1, do_sample=False,
    )


def build_model(shape: BundledShape, vocab_size: int, seed: int = 0):
    """A randomly initialised ``VisionEncoderDecoderModel`` for ``shape``."""
    torch.manual_seed(seed)
    model = VisionEncoderDecoderModel(config=model_config(shape, vocab_size))
    model.generation_config = generation_config(shape)
    return model


@dataclass
class BundledBuild:
    """What ``build`` returns: the model and the processor to train it with."""

    model: object
    processor: object
    shape: BundledShape = field(default_factory=BundledShape)


def build(formulas: Iterable[str], shape: str | dict | BundledShape = "bundled",
          seed: int = 0, out_dir: str | Path | None = None) -> BundledBuild:
    """Train the LaTeX tokenizer on ``formulas`` and build model + processor.

    ``formulas`` should already be in the form the model must emit (clean_latex'd).
    With ``out_dir`` the result is saved with ``save_pretrained`` as well.
    """
    if isinstance(shape, str):
        shape = SHAPES[shape]
    elif isinstance(shape, dict):
        shape = BundledShape.from_dict(shape)
    tokenizer = train_tokenizer(formulas, shape.vocab_size)
    tokenizer.model_max_length = shape.max_target_tokens
    processor = build_processor(tokenizer, shape)
    model = build_model(shape, len(tokenizer), seed)
    logger.info("bundled model: %.1fM parameters, %d tokens",
                count_parameters(model) / 1e6, len(tokenizer))
    if out_dir is not None:
        save(model, processor, out_dir)
    return BundledBuild(model=model, processor=processor, shape=shape)


def save(model, processor, out_dir: str | Path) -> Path:
    out = Path(out_dir)
    model.save_pretrained(out)
    processor.save_pretrained(out)
    return out


def count_parameters(model) -> int:
    return sum(p.numel() for p in model.parameters())


# -- recipe hooks (training/recipes/bundled.json) -------------------------------------


def target_text(text: str) -> str:
    """The form the model must emit: the app's canonical, paste-ready LaTeX."""
    return clean_latex(text)


def tokenizer_corpus(recipe, per_folder: int) -> list[str]:
    """Cleaned formulas like the targets: im2latex labels + the renderer's formula lists."""
    texts: list[str] = []
    for source in recipe.datasets:
        if "im2latex" in source.path:
            split = load_split(source, source.train_split)
            texts += select_rows(split, source.train_rows, source.shuffle_seed)["text"]
    for folder in sorted(formulas_dir(recipe).iterdir()):
        path = folder / "formulas.txt"
        if path.is_file():
            with path.open(encoding="utf-8") as fh:
                texts += [line.strip() for _, line in zip(range(per_folder), fh, strict=False)]
    return [target_text(t) for t in texts if t.strip()]


def build_for_recipe(recipe):
    """``build`` hook: build once into ``<output_dir>/init`` so resumed runs share it."""
    options = {"shape": "bundled", "seed": 0, "corpus_per_folder": 20000,
               **recipe.build_args}
    init_dir = output_dir_of(recipe) / "init"
    if not (init_dir / "config.json").is_file():
        corpus = tokenizer_corpus(recipe, options["corpus_per_folder"])
        shape = options["shape"]
        built = build(corpus, SHAPES[shape] if isinstance(shape, str)
                      else BundledShape.from_dict(shape), options["seed"], init_dir)
        logger.info("built the bundled model (%d parameters) in %s",
                    count_parameters(built.model), init_dir)
    return load_pretrained_from(dataclasses.replace(recipe, model=str(init_dir)))


class BundledCollator:
    """Pixels + canonical-LaTeX labels (no BOS: the decoder start token is BOS).

    ``decoder_noise`` (``collator_args``): the share of the decoder's *input* tokens
    replaced by ``<unk>`` (labels untouched). A decoder that cannot trust its own history
    has to read the image, which a from-scratch model otherwise learns late: its language
    model alone gets the loss down first.
    """

    def __init__(self, processor, recipe, decoder_noise: float = 0.0, seed: int = 0,
                 **_unused):
        if not 0.0 <= decoder_noise < 1.0:
            raise ValueError(f"decoder_noise must be in [0, 1), not {decoder_noise}")
        self.image_processor = processor.image_processor
        self.tokenizer = processor.tokenizer
        self.max_length = recipe.max_target_length
        self.images = ImagePreparer(recipe.preprocess, recipe.letterbox,
                                    recipe.letterbox_anchor)
        self.decoder_noise = decoder_noise
        self.generator = torch.Generator().manual_seed(seed)

    def __call__(self, examples: list[dict]):
        pixels = self.image_processor(
            [self.images(ex["image"]) for ex in examples], return_tensors="pt"
        )["pixel_values"]
        ids = [self.encode(ex["text"]) for ex in examples]
        labels = torch.full((len(ids), max(map(len, ids))), -100, dtype=torch.long)
        for row, seq in enumerate(ids):
            labels[row, : len(seq)] = torch.tensor(seq)
        batch = {"pixel_values": pixels, "labels": labels}
        if self.decoder_noise:
            batch["decoder_input_ids"] = self.noisy_decoder_inputs(labels)
        return batch

    def noisy_decoder_inputs(self, labels):
        """Teacher-forcing inputs (BOS + labels shifted right) with ``<unk>`` noise."""
        inputs = torch.cat([torch.full_like(labels[:, :1], BOS_ID), labels[:, :-1]], 1)
        inputs = inputs.masked_fill(inputs == -100, PAD_ID)
        noise = torch.rand(inputs.shape, generator=self.generator) < self.decoder_noise
        noise &= inputs > UNK_ID  # never BOS, padding or EOS
        return inputs.masked_fill(noise, UNK_ID)

    def encode(self, text: str) -> list[int]:
        ids = self.tokenizer(target_text(text), add_special_tokens=False)["input_ids"]
        return [*ids[: self.max_length - 1], EOS_ID]
