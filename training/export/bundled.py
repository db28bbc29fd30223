"""Export a training checkpoint of the bundled recipe to ``model/bundled/``.

The shipped folder is what ``model.loading.load_recognizer()`` opens by default:
safetensors weights, config, generation config, processor + tokenizer files,
``snaptex.json`` (input hints) and a model card (README.md) that records the data,
the recipe, how much training went in and the evaluation figures with the command that
reproduces them. Checkpoints carry optimizer state; none of that is shipped.

    python -m training.export.bundled                     # newest runs/bundled/checkpoint-*
    python -m training.export.bundled --eval-report runs/bundled/eval-test300.json
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from itertools import pairwise
from pathlib import Path

import torch
from transformers import AutoProcessor, VisionEncoderDecoderModel
from transformers.trainer_utils import get_last_checkpoint

from model.ctc_head import HINT_KEY
from model.manifest import update_hints
from training.command import guarded, setup_logging
from training.export.average import PROVENANCE
from training.recipe import REPO_ROOT, RecipeError, load_recipe, output_dir_of
from training.trainer.compute_time import recorded

logger = logging.getLogger(__name__)

RUN_DIR = REPO_ROOT / "runs" / "bundled"
BUNDLED_DIR = REPO_ROOT / "model" / "bundled"
MAX_BYTES = 120 * 1000 * 1000
SHIPPED_SUFFIXES = (".json", ".safetensors", ".md", ".txt", ".model")


class ExportError(RuntimeError):
    """A one-line reason the export cannot go on."""


def latest_checkpoint(run_dir: Path) -> Path:
    last = get_last_checkpoint(str(run_dir)) if run_dir.is_dir() else None
    if not last:
        raise ExportError(f"no checkpoint-* folder in {run_dir}; train first")
    return Path(last)


def load_checkpoint(checkpoint: Path, run_dir: Path):
    """Model (float32) and processor; the processor falls back to ``<run>/init``."""

    model = VisionEncoderDecoderModel.from_pretrained(
        checkpoint, dtype=torch.float32, local_files_only=True
    )
    source = checkpoint if (checkpoint / "tokenizer.json").is_file() else run_dir / "init"
    processor = AutoProcessor.from_pretrained(source, local_files_only=True)
    return model, processor


def training_facts(checkpoint: Path, run_dir: Path) -> dict:
    """Steps, samples seen, last logged loss and the wall-clock span of the run."""
    state = json.loads((checkpoint / "trainer_state.json").read_text())
    steps = state.get("global_step", 0)
    losses = [e["loss"] for e in state.get("log_history", []) if "loss" in e]
    batch = (state.get("train_batch_size") or 0) * launch_factor(run_dir)
    # The run began when its init folder (from-scratch builds) or launch.json was written.
    starts = [run_dir / "init" / "config.json", run_dir / "launch.json"]
    start = next((path for path in starts if path.exists()), None)
    span_h = (checkpoint.stat().st_mtime - start.stat().st_mtime) / 3600 if start else None
    return {
        "checkpoint": checkpoint.name,
        "steps": steps,
        "batch_size": batch,
        "samples_seen": steps * batch,
        "last_loss": round(losses[-1], 3) if losses else None,
        "wall_clock_hours": round(span_h, 2) if span_h is not None else None,
        "compute": compute_words(recorded(state.get("stateful_callbacks")), steps),
        "events": history_lines(state.get("log_history", []))
        + averaged_lines(checkpoint),
    }


def compute_words(saved: dict | None, steps: int) -> str:
    """The card's words for the compute time a checkpoint at ``steps`` recorded."""
    if saved is None:
        return "not recorded (the run predates `training.trainer.compute_time`)"
    hours = f"{saved['seconds'] / 3600:.2f} h"
    since = saved["since_step"] or 0
    if since == 0:
        return hours
    return (f"{hours} for steps {since:,}-{steps:,} (earlier steps ran "
            "before compute time was recorded)")


def averaged_lines(checkpoint: Path) -> list[str]:
    """A history line if the folder is a ``training.export.average`` of several checkpoints."""
    path = checkpoint / PROVENANCE
    if not path.is_file():
        return []
    names = json.loads(path.read_text(encoding="utf-8")).get("checkpoints", [])
    return [f"The weights are the mean of {len(names)} checkpoints ({', '.join(names)}; "
            "`python -m training.export.average`); the step count and loss are the last one's."]


def lr_restarts(log_history: list[dict], factor: float = 3.0) -> list[tuple[int, float, float]]:
    """(step, lr before, lr after) wherever the logged learning rate jumped up by more
    than ``factor`` after warm-up: the run was resumed with a longer schedule."""
    logged = [(e["step"], e["learning_rate"]) for e in log_history if "learning_rate" in e]
    peak, restarts = 0.0, []
    for (_, before), (step, after) in pairwise(logged):
        peak = max(peak, before)
        if before < peak and after > before * factor:
            restarts.append((step, before, after))
    return restarts


def history_lines(log_history: list[dict]) -> list[str]:
    return [f"At step {step} the learning rate went from {before:.2g} to {after:.2g}: the "
            "run was resumed with a longer schedule (a warm restart of the cosine)."
            for step, before, after in lr_restarts(log_history)]


def launch_factor(run_dir: Path) -> int:
    """Processes x accumulation steps per optimiser step (``launch.json``; 1 without)."""
    path = run_dir / "launch.json"
    if not path.is_file():
        return 1
    launch = json.loads(path.read_text())
    return int(launch.get("world_size", 1)) * int(launch.get("gradient_accumulation_steps", 1))


def clear_folder(folder: Path) -> None:
    """Remove only what an export writes, so a stray user file is never deleted."""
    folder.mkdir(parents=True, exist_ok=True)
    for path in folder.iterdir():
        if path.is_file() and path.suffix in SHIPPED_SUFFIXES:
            path.unlink()


def folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def write_folder(model, processor, out: Path, input_hints: dict | None = None,
                 ctc_hint: dict | None = None) -> None:
    clear_folder(out)
    model.save_pretrained(out)  # safetensors by default
    processor.save_pretrained(out)
    # The pixels it was trained on (the recipe's), so the app prepares snips the same way;
    # and, if its encoder learned CTC, that CTC may take part in the search.
    ctc = {HINT_KEY: ctc_hint} if ctc_hint else {}
    # Its 4-layer decoder steps faster with eager attention on CPU (model/cpu_exec.py).
    # Its 64-px canvas squeezes multi-line blocks; it reads them far better row by row
    # (model/layout; docs/adr/0009-multi-line-blocks-row-by-row.md).
    inputs = {**(input_hints or {"preprocess": True, "letterbox": None}), "split_rows": True}
    update_hints(out, input=inputs, cpu={"decoder_attention": "eager"}, **ctc)
    for path in out.iterdir():  # safetensors writes 0600; the package must be readable
        path.chmod(0o644)
    size = folder_bytes(out)
    if size > MAX_BYTES:
        raise ExportError(f"exported folder is {size / 1e6:.1f} MB > 120 MB")


CARD = """\
---
license: apache-2.0
library_name: transformers
pipeline_tag: image-to-text
tags: [latex, ocr, im2latex, vision-encoder-decoder]
---
# SnapTeX bundled model

The equation-to-LaTeX model that ships inside SnapTeX so it works offline on a laptop CPU.
A `VisionEncoderDecoderModel` (stock transformers classes, no remote code):
**{encoder}** encoder over a wide {height}x{width} canvas (aspect-preserving resize + pad by
`DonutImageProcessorPil`, so wide formulas are not squashed; {encoder_details}) and a
pre-LayerNorm **MBart** decoder
({dec_layers} layers, width {d_model}, {dec_heads} heads) over a LaTeX BPE vocabulary of
{vocab} tokens. {params:.1f}M parameters, {weights_dtype} safetensors ({size_mb:.1f} MB).

It emits canonical, paste-ready LaTeX (`model.postprocess.clean_latex` form, e.g.
`\\frac{{a}}{{b}}`); inputs are expected to go through `model.preprocess.prepare` first
(`snaptex.json` says so; the app does it).
The self-check's calibration (`snaptex.json`, `self_check`) is fitted for each export
on PDF-snip dev sets: `python -m training.evaluate.calibrate --model model/bundled
--devset DIR [DIR ...] --write` (see `docs/self-check.md`).

## Training data
- im2latex-100k (`../shared/data/im2latex-100k`): `train` (3,000) and `validation`
  (8,475) splits; `test` is kept for evaluation only. Research data, no licence stated.
- Images typeset by the project with real LaTeX ({rendered}; `snaptex render` or
  `python -m training.data.pdf_snips`) from `../shared/data/formulas` (Stacks project
  GFDL, MATH MIT, Wikipedia/pix2tex, im2latex), several fonts, sizes, DPIs and themes,
  never a formula of the im2latex test split or of the PDF-snip dev sets. Mixed {mix}
  by weight.
{schedule}

## Recipe and training
{recipe_text}
(`snaptex train --recipe NAME` runs a recipe in one process; rerun either command to
resume from the newest checkpoint of its run.) bf16 autocast where the CPU runs it
natively (AMX or AVX512-BF16), float32 elsewhere. The logged training loss is the
Trainer's: the decoder's cross-entropy times the number of processes, plus the encoder
loss.

| | |
|---|---|
| checkpoint | `{checkpoint}` |
| optimizer steps | {steps} |
| batch size | {batch_size} |
| samples seen | {samples_seen} |
| last logged training loss | {last_loss} |
| training compute time | {compute} |
| wall-clock span of the run | {wall_clock_hours} h (2 shared CPU cores; includes pauses \
between resumes) |

{history}
{evaluation}
{devset}
{peer}
## Licences
- This model's weights and SnapTeX's code: Apache-2.0.
- Built from: im2latex-100k (research data, no licence stated), the Stacks project
  (GFDL 1.2), the MATH data set's competition problems (MIT), pix2tex's Wikipedia formula
  list (MIT / CC BY-SA), rendered by TeX Live (LPPL and free licences); architecture and
  code from Hugging Face transformers (Apache-2.0).
- Not built from: pix2tex's checkpoint (CC BY-NC-SA). It is run only to measure against,
  from its own cached environment; no weight of it or output of it goes into training.

## Limitations
Trained on a 2-core CPU (the run spanned {wall_clock_hours} h, pauses included); see the
figures above before relying on it.
Multi-line formulas are squeezed into a {height}-pixel-high canvas. Aligned and gathered
blocks are therefore read again row by row (`model/layout`, on by `input.split_rows`);
matrices, arrays and `cases`, whose delimiters and columns span the rows, are read whole
and are read worst. Handwriting is out of scope.
"""


def decoding(options: dict, ctc_weight: float | None = None) -> str:
    """The search a report was measured with, in words (``ctc_weight``: the report's)."""
    beams = int(options.get("num_beams", 1))
    search = "greedy decoding" if beams == 1 else f"beam search ({beams} beams)"
    return f"{search}, joint with CTC at weight {ctc_weight:g}" if ctc_weight else search


def eval_command(report: dict) -> str:
    """The ``snaptex eval`` command that reads what ``report`` read, rebuilt from its data
    and options, for reports written before ``snaptex eval`` recorded its own command
    (the thread count is not recorded)."""
    data, options = report.get("data", {}), report.get("options", {})
    words = ["snaptex eval --model model/bundled"]
    if data.get("split"):
        words.append(f"--split {data['split']}")
    if data.get("examples"):
        words.append(f"--limit {data['examples']}")
    if data.get("shuffle_seed") is not None:
        words.append(f"--shuffle-seed {data['shuffle_seed']}")
    if options.get("max_new_tokens"):
        words.append(f"--max-new-tokens {options['max_new_tokens']}")
    return " ".join(words)


def evaluation_section(report: dict | None, command: str) -> str:
    if not report:
        return "## Evaluation\nNot evaluated for this export.\n"
    result = report["reports"][0]
    m, lat, data = result["metrics"], result["latency_ms"], report["data"]
    return (
        "## Evaluation\n"
        f"{data['examples']} examples of `{data['source']}` [{data['split']}], "
        f"{decoding(report.get('options', {}), result['model'].get('ctc_weight'))}, "
        f"{result['model']['device']} {result['model']['dtype']}:\n\n"
        "| BLEU-4 | edit distance | exact match | empty | latency p50 | p95 |\n"
        "|---|---|---|---|---|---|\n"
        f"| {m['bleu']:.3f} | {m['edit_distance']:.3f} | {m['exact_match']:.3f} | "
        f"{m['empty_share']:.3f} | {lat['p50']:.0f} ms | {lat['p95']:.0f} ms |\n\n"
        f"Reproduce: `{command or report.get('command') or eval_command(report)}`\n"
    )


def devset_section(reports: list[dict]) -> str:
    """Tables from ``training.evaluate.pix2tex.compare``: every system on the same images in
    one run, overall and per formula length."""
    if not reports:
        return ""
    parts = ["## PDF-snip dev sets, against the previous release and pix2tex (each table one run)"]
    for report in reports:
        found = report.get("machine", {})
        bf16 = "native bf16" if found.get("native_bf16") else "no native bf16"
        parts.append(f"{report['images']} images of `{report['data']}`, "
                     f"{report['threads']} threads each, {found.get('cpu', '?')} ({bf16}):\n\n"
                     + report["scores_table"] + "\n\n"
                     f"Reproduce: `{report['command']}`")
    return "\n\n".join(parts) + "\n"


def peer_section(report: dict | None) -> str:
    if not report:
        return ""
    return "## Against latex-ocr-junia (same images, one run)\n" + report["table"] + "\n\n" + (
        f"Reproduce: `{report['command']}`\n"
    )


ENCODER_NAMES = {"swin": "Swin", "donut-swin": "DonutSwin", "vit": "ViT",
                 "dpt": "ResNet + ViT (DPT-hybrid)"}


def encoder_details(enc) -> str:
    """Stage sizes of any encoder ``training.models.bundled.encoder_config`` builds."""
    if enc.model_type == "dpt":
        cnn = enc.backbone_config
        return (f"BiT ResNet stem {cnn.embedding_size}, stages of widths "
                f"{list(cnn.hidden_sizes)} and depths {list(cnn.depths)} to stride "
                f"{enc.patch_size}, then {enc.num_hidden_layers} ViT layers of width "
                f"{enc.hidden_size}, learned absolute positions")
    if enc.model_type == "vit":
        return (f"{enc.num_hidden_layers} layers of width {enc.hidden_size}, "
                f"{enc.patch_size}-px patches, learned absolute positions")
    widths = [enc.embed_dim * 2**i for i in range(len(enc.depths))]
    absolute = getattr(enc, "use_absolute_embeddings", False)
    positions = "learned absolute positions" if absolute else "relative positions only"
    return (f"{list(enc.depths)} blocks per stage, widths {widths}, "
            f"window {enc.window_size}, {positions}")


def recipe_summary(recipe) -> dict:
    """The card's words for the recipe's data mix, curriculum and extra losses."""
    if recipe is None:
        return {"mix": "as the recipe says", "schedule": "", "rendered": "`data/rendered`"}
    mix = " / ".join(f"{s.weight:g}" for s in recipe.datasets)
    rendered = ", ".join(f"`{s.path}/{s.train_split}`" for s in recipe.datasets
                         if "im2latex-100k" not in s.path) or "none in this recipe"
    parts = []
    if recipe.curriculum:
        stages = ", ".join(f"{st['steps']} steps of formulas <= {st['max_formula_chars']} "
                           "characters" for st in recipe.curriculum)
        parts.append(f"Curriculum: {stages}, then the full mix.")
    extra = recipe.trainer_args.get("encoder_loss")
    if extra:
        weight = recipe.trainer_args.get("encoder_loss_weight")
        parts.append(f"Extra loss on the encoder: {extra} (weight {weight}).")
    return {"mix": mix, "schedule": " ".join(parts), "rendered": rendered}


def recipe_text(recipe) -> str:
    """How to rebuild it: one from-scratch recipe, or a stage that continues a folder."""

    name = recipe.name if recipe is not None else "bundled"
    run = output_dir_of(recipe) if recipe is not None else Path("runs/bundled")
    train = ("    OMP_NUM_THREADS=1 torchrun --nproc-per-node 2 -m training.trainer.train"
             f" --recipe {name}")
    export = f"    python -m training.export.bundled --recipe {name} --run-dir {run}"
    if recipe is None or not recipe.model:
        return (f"Recipe: `training/recipes/{name}.json` (rebuilds from scratch on CPU):\n\n"
                f"{train}\n{export}\n")
    return (f"Recipe: `training/recipes/{name}.json`, a later stage that continues the "
            f"model in `{recipe.model}` (the first stage, `training/recipes/bundled.json`, "
            "built the line from scratch; the stages between are in the history below). "
            f"The table counts this stage only.\n\n{train}\n{export}\n")


def history_section(events: list[str], note: str | None) -> str:
    """How this run differed from one unbroken run of the recipe (empty if it did not)."""
    lines = [*events, *([note] if note else [])]
    if not lines:
        return ""
    return "## History of this run\n" + "\n".join(f"- {line}" for line in lines) + "\n"


def write_model_card(out: Path, model, facts: dict, report: dict | None,
                     command: str, peer: dict | None, recipe=None,
                     note: str | None = None, devsets: list[dict] | None = None) -> None:
    enc, dec = model.config.encoder, model.config.decoder
    history = history_section(facts.get("events", []), note)
    text = CARD.format(
        history=history,
        recipe_text=recipe_text(recipe),
        **recipe_summary(recipe),
        encoder=ENCODER_NAMES.get(enc.model_type, enc.model_type),
        encoder_details=encoder_details(enc),
        height=enc.image_size[0], width=enc.image_size[1], dec_layers=dec.decoder_layers,
        d_model=dec.d_model,
        dec_heads=dec.decoder_attention_heads, vocab=dec.vocab_size,
        params=sum(p.numel() for p in model.parameters()) / 1e6,
        size_mb=folder_bytes(out) / 1e6, evaluation=evaluation_section(report, command),
        peer=peer_section(peer), devset=devset_section(devsets or []),
        weights_dtype=str(next(model.parameters()).dtype).removeprefix("torch."), **facts,
    )
    (out / "README.md").write_text(text, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m training.export.bundled",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", type=Path, help="default: newest in --run-dir")
    parser.add_argument("--run-dir", type=Path, default=RUN_DIR)
    parser.add_argument("--out", type=Path, default=BUNDLED_DIR)
    parser.add_argument("--eval-report", type=Path,
                        help="JSON written by `snaptex eval` on this checkpoint")
    parser.add_argument("--eval-command", default="", help="the command that wrote it")
    parser.add_argument("--peer-report", type=Path, help="JSON from training.evaluate.peer_compare")
    parser.add_argument("--devset-report", type=Path, action="append", default=[],
                        help="JSON from training.evaluate.pix2tex.compare (repeatable)")
    parser.add_argument("--dtype", choices=("float32", "bfloat16"), default="float32",
                        help="weights as shipped: bfloat16 halves the folder (CPUs without "
                             "native bf16 upcast them to float32 on loading)")
    parser.add_argument("--history-note",
                        help="what the checkpoint cannot show, e.g. data added on resuming")
    parser.add_argument("--recipe", default="bundled",
                        help="the recipe it was trained with (its image preparation)")
    args = parser.parse_args(argv)
    setup_logging()
    errors = (ExportError, RecipeError, OSError, ValueError)
    return guarded("export_bundled", lambda: export(args), errors)


def export(args: argparse.Namespace) -> int:
    checkpoint = args.checkpoint or latest_checkpoint(args.run_dir)
    model, processor = load_checkpoint(checkpoint, args.run_dir)
    model = model.to(getattr(torch, args.dtype))
    recipe = load_recipe(args.recipe)
    write_folder(model, processor, args.out, recipe.input_hints(), recipe.ctc_hint())
    facts = training_facts(checkpoint, args.run_dir)
    write_model_card(args.out, model, facts, _read_json(args.eval_report),
                     args.eval_command, _read_json(args.peer_report), recipe,
                     args.history_note, [devset_table(_read_json(p)) for p in args.devset_report])
    print(f"exported {checkpoint} -> {args.out} ({folder_bytes(args.out) / 1e6:.1f} MB, "
          f"{facts['samples_seen']} samples seen) at {time.strftime('%H:%M UTC', time.gmtime())}")
    return 0


def devset_table(report: dict) -> dict:
    """A compare report with the card's table: overall, then per formula length."""
    from training.evaluate.pix2tex.compare import overall_table, style_table

    scores = report["scores"]
    tables = [overall_table(scores["overall"])]
    if "length" in scores.get("per_style", {}):
        tables.append(style_table("length", scores["per_style"]["length"]))
    return {**report, "scores_table": "\n\n".join(tables)}


def _read_json(path: Path | None) -> dict | None:
    if path is None:
        return None
    if not path.is_file():
        raise ExportError(f"no report at {path}")
    return json.loads(path.read_text(encoding="utf-8"))


if __name__ == "__main__":
    sys.exit(main())
