"""``snaptex train``: run a training recipe with ``Seq2SeqTrainer``.

One entry point for every recipe (``training/recipes/*.json``). The steps in
:func:`run` are the seed tutorial's, in its order; recipes differ only in data.

Examples::

    snaptex train --recipe t5gemma2-a100                 # the A100 reproduction
    snaptex train --recipe t5gemma2-a100 \\
        --model /path/to/t5gemma-2-270m-270m \\
        --dataset ../shared/data/im2latex-100k           # offline, same recipe
    snaptex train --recipe debug-tiny-cpu                # a 2-step CPU smoke run

Several GPUs or nodes use the Trainer's own support, no code change (each process
gets ``per_device_train_batch_size``, so N GPUs multiply the effective batch by N)::

    accelerate launch -m training.trainer.train --recipe t5gemma2-a100
    torchrun --nproc-per-node 4 -m training.trainer.train --recipe t5gemma2-a100
    torchrun --nnodes 2 --node-rank R --master-addr HOST --nproc-per-node 8 \\
        -m training.trainer.train --recipe t5gemma2-a100
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import Any

from model.manifest import update_hints
from training.data.collators import import_object, make_collator, tokenizer_of
from training.data.sources import load_train_eval
from training.models.pretrained import load_pretrained_from
from training.recipe import (
    DEFAULT_RECIPE,
    Recipe,
    RecipeError,
    available_recipes,
    load_recipe,
    output_dir_of,
    parse_assignment,
    read_recipe_dict,
    resolve_local,
)
from training.trainer import preflight
from training.trainer.resume import resumable

logger = logging.getLogger(__name__)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="snaptex train",
        description="Train or fine-tune a model from a recipe.",
        epilog="Several GPUs or nodes: `accelerate launch -m training.trainer.train ...` or "
        "`torchrun --nproc-per-node N -m training.trainer.train ...` (no code change).",
    )
    add = parser.add_argument
    add(
        "--recipe",
        default=DEFAULT_RECIPE,
        help=f"bundled recipe name or JSON file (default {DEFAULT_RECIPE})",
    )
    add("--model", help="hub id or local folder to start from (replaces the recipe's)")
    add("--dataset", help="hub id or local folder in the im2latex shape (replaces all)")
    add("--dataset-config", help="hub config of --dataset (e.g. full)")
    add(
        "--device", choices=("auto", "cpu", "cuda"), help="override the recipe's device"
    )
    add("--max-steps", type=int, help="stop after N optimiser steps")
    add("--train-rows", type=int, help="training rows per data set")
    add("--eval-rows", type=int, help="evaluation rows per data set")
    add("--output-dir", help="where checkpoints and the final model go")
    add(
        "--set",
        dest="assignments",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override any recipe field, e.g. training_args.learning_rate=5e-5 "
        "or freeze='[\"vision_tower\"]' (repeatable; VALUE is JSON if it parses)",
    )
    add(
        "--resume",
        default="auto",
        help="'auto' (last checkpoint in the output dir, if any), 'never', or a path",
    )
    add(
        "--push-to-hub",
        metavar="REPO_ID",
        help="upload the saved model and processor to this hub repository",
    )
    add(
        "--print-recipe", action="store_true", help="print the resolved recipe and exit"
    )
    add("--list-recipes", action="store_true", help="list the bundled recipes and exit")
    add("-v", "--verbose", action="store_true", help="debug logging")
    return parser


def recipe_from_args(args: argparse.Namespace) -> Recipe:
    """The recipe file with the command line's overrides applied."""
    overrides: dict[str, Any] = {}
    if args.model:
        overrides.update(model=args.model, build=None)
    if args.dataset:
        overrides["datasets"] = _replace_datasets(args)
    flags = {
        "device": args.device,
        "output_dir": args.output_dir,
        "training_args.max_steps": args.max_steps,
    }
    data = read_recipe_dict(args.recipe)
    for index in range(len(overrides.get("datasets") or data.get("datasets") or [])):
        flags[f"datasets.{index}.train_rows"] = args.train_rows
        flags[f"datasets.{index}.eval_rows"] = args.eval_rows
    # A flag left out changes nothing; `--set key=null` does set null.
    overrides.update({k: v for k, v in flags.items() if v is not None})
    for text in args.assignments:
        key, value = parse_assignment(text)
        overrides[key] = value
    return load_recipe(args.recipe, _ordered(overrides))


def _ordered(overrides: dict[str, Any]) -> dict[str, Any]:
    # Whole-list replacements first, so "datasets.0.x" applies to the new list.
    return dict(sorted(overrides.items(), key=lambda kv: kv[0] != "datasets"))


def _replace_datasets(args: argparse.Namespace) -> list[dict[str, Any]]:
    """One data set in place of the recipe's, keeping its split and row selection."""
    sources = read_recipe_dict(args.recipe).get("datasets") or [{}]
    first = dict(sources[0]) if isinstance(sources[0], dict) else {}
    first.update(path=args.dataset, weight=1.0)
    if args.dataset_config or resolve_local(args.dataset) is not None:
        first["name"] = args.dataset_config  # a local folder has no hub configs
    return [first]


# -- model -----------------------------------------------------------------------


def load_model_and_processor(recipe: Recipe):
    """Step 4: pretrained (Auto classes) or built by the recipe's ``build`` hook."""
    if recipe.build:
        model, processor = import_object(recipe.build)(recipe)
    else:
        model, processor = load_pretrained_from(recipe)
    ensure_pad_token(model, processor, recipe.pad_token)
    freeze_parameters(model, recipe.freeze)
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    total = sum(p.numel() for p in model.parameters())
    logger.info(
        "model: %s, %.1fM parameters, %.1fM trainable",
        type(model).__name__,
        total / 1e6,
        trainable / 1e6,
    )
    return model, processor


def ensure_pad_token(model, processor, pad_token: str) -> None:
    """Add a pad token only when the tokenizer has none (the tutorial's rule)."""
    tokenizer = tokenizer_of(processor)
    if tokenizer.pad_token is None:
        tokenizer.add_special_tokens({"pad_token": pad_token})
        model.resize_token_embeddings(len(tokenizer))
        logger.info(
            "added pad token %r and resized embeddings to %d", pad_token, len(tokenizer)
        )
    if getattr(model.config, "pad_token_id", None) is None:
        model.config.pad_token_id = tokenizer.pad_token_id


def freeze_parameters(model, patterns: tuple[str, ...]) -> None:
    """Freeze every parameter whose name contains one of ``patterns``."""
    for pattern in patterns:
        matched = [p for name, p in model.named_parameters() if pattern in name]
        if not matched:
            raise RecipeError(f"freeze pattern {pattern!r} matches no parameter")
        for parameter in matched:
            parameter.requires_grad_(False)
        logger.info("froze %d tensors matching %r", len(matched), pattern)


# -- trainer ---------------------------------------------------------------------


def training_arguments(recipe: Recipe, device: str, output_dir: Path):
    """``Seq2SeqTrainingArguments`` from the recipe, adjusted only for a CPU run."""
    from transformers import Seq2SeqTrainingArguments

    values = {"seed": recipe.seed, **recipe.training_args}
    if recipe.curriculum:
        values["train_sampling_strategy"] = "sequential"  # the stages' order is the point
    if device == "cpu":
        from model.cpu_exec import cpu_supports_bf16

        values = cpu_training_values(values, bf16_native=cpu_supports_bf16())
    try:
        return Seq2SeqTrainingArguments(output_dir=str(output_dir), **values)
    except (TypeError, ValueError) as exc:
        raise RecipeError(f"bad training_args: {exc}") from None


def cpu_training_values(values: dict[str, Any], bf16_native: bool) -> dict[str, Any]:
    """The recipe's training arguments as this CPU can run them.

    A recipe's ``bf16`` means "bf16 autocast where it is faster". Without AMX-BF16 or
    AVX512-BF16 the CPU emulates bf16 matmuls: on an AMD Zen 1 one step of the bundled
    recipe took ~115 s with rendering on the same cores, ~7 s in fp32 on idle ones (a
    Xeon with AMX: ~1.5 s in bf16), so it falls back to fp32.
    """
    values = {**values, "use_cpu": True}
    if values.get("tf32"):
        logger.info("tf32 is an Ampere GPU feature: off for this CPU run")
        values["tf32"] = False
    if values.get("bf16") and not bf16_native:
        logger.warning(
            "this CPU has no native bf16 (AMX-BF16 or AVX512-BF16), where bf16 "
            "autocast is many times slower than fp32: training in fp32 instead"
        )
        values["bf16"] = False
    return values


def set_determinism(recipe: Recipe, device: str) -> None:
    """Step 3: ``set_seed`` and TF32 (the tutorial turns TF32 on for the A100)."""
    import torch
    from transformers import set_seed

    set_seed(recipe.seed)
    if recipe.tf32 and device == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True


def model_and_data(recipe: Recipe, training_args):
    """Steps 4 and 5, the main process first: it alone builds ``<output>/init`` (a
    recipe's ``build`` hook) and fills the download and data-set caches, which the other
    processes of a torchrun/accelerate run then read instead of racing to write.

    One main process for all nodes unless ``save_on_each_node`` says that nodes do not
    share a file system.
    """
    with training_args.main_process_first(local=training_args.save_on_each_node,
                                          desc="building the model and loading data"):
        model, processor = load_model_and_processor(recipe)
        train, evaluation = load_train_eval(recipe)
    return model, processor, train, evaluation


def make_trainer(recipe, model, processor, train, evaluation, args):
    from transformers import Seq2SeqTrainer

    from training.trainer.compute_time import ComputeTimeCallback

    compute_metrics = None
    if args.predict_with_generate:
        from training.evaluate.metrics import make_compute_metrics

        compute_metrics = make_compute_metrics(tokenizer_of(processor), recipe.prompt)
    trainer_class = resumable(import_object(recipe.trainer) if recipe.trainer else Seq2SeqTrainer)
    return trainer_class(
        **recipe.trainer_args,
        model=model,
        args=args,
        train_dataset=train,
        eval_dataset=evaluation,
        data_collator=make_collator(processor, recipe),
        processing_class=processor,
        compute_metrics=compute_metrics,
        callbacks=[ComputeTimeCallback()],
    )


def checkpoint_to_resume(mode: str, output_dir: Path) -> str | None:
    """``auto``: the newest ``checkpoint-N`` in the output dir; ``never``; or a path."""
    from transformers.trainer_utils import get_last_checkpoint

    if mode == "never":
        return None
    if mode != "auto":
        if not Path(mode).is_dir():
            raise RecipeError(f"no checkpoint folder at {mode}")
        return mode
    last = get_last_checkpoint(str(output_dir)) if output_dir.is_dir() else None
    if last:
        logger.info("resuming from %s", last)
    return last


def save_outputs(trainer, processor, recipe: Recipe, output_dir: Path, result) -> None:
    """Model and processor together (the tutorial's hub repo lacked the processor)."""
    trainer.save_model(str(output_dir))
    if not trainer.is_world_process_zero():
        return
    processor.save_pretrained(str(output_dir))
    # The Trainer pickles its arguments; model folders hold no pickles, so keep JSON.
    (output_dir / "training_args.bin").unlink(missing_ok=True)
    (output_dir / "training_args.json").write_text(trainer.args.to_json_string())
    (output_dir / "recipe.json").write_text(json.dumps(recipe.to_dict(), indent=2))
    # Tell the app's loader which pixels the model was trained on (model/adapters.py).
    update_hints(output_dir, input=recipe.input_hints())
    summary = {"metrics": result.metrics, "log_history": trainer.state.log_history}
    (output_dir / "train_log.json").write_text(json.dumps(summary, indent=2))
    logger.info("saved model, processor and recipe to %s", output_dir)


def write_launch(output_dir: Path, training_args) -> None:
    """``launch.json``: how many processes share each optimiser step. The Trainer's state
    records the per-process batch only; the export's model card needs samples seen."""
    output_dir.mkdir(parents=True, exist_ok=True)
    launch = {"world_size": training_args.world_size,
              "per_device_train_batch_size": training_args.per_device_train_batch_size,
              "gradient_accumulation_steps": training_args.gradient_accumulation_steps}
    path, text = output_dir / "launch.json", json.dumps(launch, indent=2)
    # Left untouched on a resume with the same launch: its time is when the run began.
    if not path.exists() or path.read_text() != text:
        path.write_text(text)


def push_to_hub(output_dir: Path, repo_id: str) -> None:
    from huggingface_hub import HfApi

    try:
        api = HfApi()
        api.create_repo(repo_id, exist_ok=True)
        api.upload_folder(
            repo_id=repo_id,
            folder_path=str(output_dir),
            ignore_patterns=["checkpoint-*", "checkpoint-*/**", "init/**"],
        )
    except Exception as exc:  # network/auth failures: report, the local copy is safe
        raise RecipeError(
            f"push to {repo_id} failed ({exc}); the model is saved in {output_dir}"
        ) from None
    logger.info("pushed %s to the hub as %s", output_dir, repo_id)


# -- entry point -------------------------------------------------------------------


def run(args: argparse.Namespace) -> int:
    """The tutorial's steps, in its order; recipes only change the data they use."""
    # 1. The recipe, with the command line's overrides.
    recipe = recipe_from_args(args)
    if args.print_recipe:
        print(json.dumps(recipe.to_dict(), indent=2))
        return 0
    # 2. Fail now, clearly, if the GPU, model or data is not reachable.
    device = preflight.check(recipe)
    logger.info("recipe %s on %s from %s", recipe.name, device, recipe.init_source)
    # 3. Seed and TF32.
    set_determinism(recipe, device)
    # The training arguments now: they know the processes of a distributed run.
    output_dir = output_dir_of(recipe)
    training_args = training_arguments(recipe, device, output_dir)
    # 4. Model and processor (pad token added only when missing; freezing).
    # 5. Data: shuffle(seed).select(range(rows)) per source, then mixed.
    model, processor, train, evaluation = model_and_data(recipe, training_args)
    # 6. The trainer with the recipe's collator.
    trainer = make_trainer(recipe, model, processor, train, evaluation, training_args)
    if trainer.is_world_process_zero():
        write_launch(output_dir, training_args)
    # 7. Train, resuming from the last checkpoint when there is one.
    result = trainer.train(
        resume_from_checkpoint=checkpoint_to_resume(args.resume, output_dir)
    )
    # 8. Save the model AND the processor, then share them if asked.
    save_outputs(trainer, processor, recipe, output_dir, result)
    if trainer.is_world_process_zero():
        if args.push_to_hub:
            push_to_hub(output_dir, args.push_to_hub)
        loss = result.metrics.get("train_loss", float("nan"))
        print(
            f"trained {recipe.name}: mean loss {loss:.4f} over "
            f"{result.global_step} steps; saved to {output_dir}"
        )
    return 0


def main(argv: list[str] | None = None) -> int:
    from training.command import guarded, setup_logging

    args = build_parser().parse_args(argv)
    setup_logging(args.verbose)
    if args.list_recipes:
        print("\n".join(available_recipes()))
        return 0
    return guarded("snaptex train", lambda: run(args), (RecipeError,),
                   on_interrupt="interrupted; rerun the command to resume")


if __name__ == "__main__":
    sys.exit(main())
