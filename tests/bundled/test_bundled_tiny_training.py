"""A few steps of the bundled recipe (tiny variant) through the shared training entry."""

from __future__ import annotations

import json
import math

import pytest
from PIL import Image


def test_tiny_bundled_recipe_trains_and_reloads(tmp_path):
    from model.loading import load_recognizer
    from training.trainer.train import main

    out = tmp_path / "run"
    assert main(["--recipe", "bundled-tiny", "--output-dir", str(out)]) == 0
    log = json.loads((out / "train_log.json").read_text())
    losses = [e["loss"] for e in log["log_history"] if "loss" in e]
    assert len(losses) == 2 and all(math.isfinite(loss) for loss in losses)
    launch = json.loads((out / "launch.json").read_text())
    assert launch == {"world_size": 1, "per_device_train_batch_size": 4,
                      "gradient_accumulation_steps": 1}
    hints = json.loads((out / "snaptex.json").read_text())
    assert hints["input"] == {"preprocess": True, "letterbox": None, "anchor": "center"}

    recognizer = load_recognizer(out, device="cpu", dtype="float32", threads=1)
    assert recognizer.info.model_type == "vision-encoder-decoder"
    from model.options import InferenceOptions

    image = Image.new("RGB", (200, 40), "white")
    image.paste((0, 0, 0), (20, 15, 180, 25))
    prediction = recognizer.recognize(image, InferenceOptions(max_new_tokens=8))
    assert prediction.n_tokens <= 8
    assert 0.0 <= prediction.confidence <= 1.0


@pytest.mark.parametrize("encoder_loss", ["ctc", "symbols"])
def test_encoder_loss_trainer_adds_its_term(tmp_path, encoder_loss):
    from training.trainer.train import main

    out = tmp_path / "run"
    args = {"encoder_loss": encoder_loss, "encoder_loss_weight": 0.5, "first_symbol_id": 260}
    assert main(["--recipe", "bundled-tiny", "--output-dir", str(out),
                 "--set", "trainer=training.trainer.encoder_losses:EncoderLossTrainer",
                 "--set", f"trainer_args={json.dumps(args)}"]) == 0
    log = json.loads((out / "train_log.json").read_text())
    extra = [e["encoder_loss"] for e in log["log_history"] if "loss" in e]
    assert len(extra) == 2 and all(0 < value < 1000 for value in extra)


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    """Two steps of the tiny bundled recipe, a checkpoint after each (shared: read only)."""
    from training.trainer.train import main as train

    run = tmp_path_factory.mktemp("tiny-bundled") / "run"
    assert train(["--recipe", "bundled-tiny", "--output-dir", str(run),
                  "--set", "training_args.save_strategy=steps",
                  "--set", "training_args.save_steps=1"]) == 0
    return run


def test_a_run_resumed_after_its_curriculum_step_ends_on_the_same_weights(tiny_run, tmp_path):
    """Weights, optimiser, schedule and the position in the curriculum's sequential
    data all come back from checkpoint-1: step 2 then matches the unbroken run's."""
    import shutil

    import torch
    from safetensors.torch import load_file

    from training.trainer.train import main as train

    resumed = tmp_path / "run"
    resumed.mkdir()
    shutil.copytree(tiny_run / "checkpoint-1", resumed / "checkpoint-1")
    assert train(["--recipe", "bundled-tiny", "--output-dir", str(resumed),
                  "--set", "training_args.save_strategy=steps",
                  "--set", "training_args.save_steps=1"]) == 0
    unbroken, again = (load_file(str(run / "model.safetensors")) for run in (tiny_run, resumed))
    assert unbroken.keys() == again.keys()
    assert all(torch.allclose(unbroken[k], again[k], atol=1e-6) for k in unbroken)


def test_export_writes_a_loadable_folder_with_a_model_card(tiny_run, tmp_path):
    from model.loading import load_recognizer
    from training.export.bundled import main as export

    run = tiny_run
    out = tmp_path / "bundled"
    assert export(["--run-dir", str(run), "--out", str(out)]) == 0
    card = (out / "README.md").read_text()
    assert "checkpoint-2" in card and "samples seen | 8" in card
    assert "mean of" not in card
    assert "| training compute time | 0.00 h |" in card  # seconds, counted from step 0
    assert not list(out.glob("*.pt")) and not list(out.glob("*.bin"))
    assert load_recognizer(out, device="cpu", threads=1).info.parameters > 0


def test_a_ctc_trained_export_searches_jointly_with_its_ctc_head(tiny_run, tmp_path,
                                                                 monkeypatch):
    """The recipe's CTC loss becomes the folder's ``ctc_decoding`` hint; the recognizer then
    runs the encoder once and lets CTC prefix scores steer generate's beam search."""
    from dataclasses import replace

    import torch
    from ctc_reference import ctc_log_likelihood

    from model import ctc_head as ctc
    from model.ctc_prefix import PrefixScorer, logits_processor
    from model.images import formula_image
    from model.loading import load_recognizer
    from model.manifest import read_hints
    from model.options import InferenceOptions
    from training.export.bundled import main as export

    out = tmp_path / "bundled"
    assert export(["--run-dir", str(tiny_run), "--out", str(out),
                   "--recipe", "bundled-tiny"]) == 0
    hint = {"weight": ctc.DEFAULT_WEIGHT, "first_symbol_id": 260}  # bundled-tiny's
    assert read_hints(out).extra[ctc.HINT_KEY] == hint
    recognizer = load_recognizer(out, device="cpu", dtype="float32", threads=1)
    assert recognizer.ctc == ctc.CtcDecoding(**hint)
    encoder_calls, scorer_calls = [], []
    recognizer.model.get_encoder().register_forward_hook(lambda *_: encoder_calls.append(1))
    scored = PrefixScorer.__call__
    monkeypatch.setattr(PrefixScorer, "__call__",
                        lambda self, *a: scorer_calls.append(1) or scored(self, *a))

    image, options = formula_image(), InferenceOptions(num_beams=3, max_new_tokens=6)
    heavy = recognizer.recognize(image, replace(options, ctc_weight=1e3))
    steps = len(scorer_calls)
    plain = recognizer.recognize(image, replace(options, ctc_weight=0.0))
    greedy = recognizer.recognize(image, replace(options, num_beams=1, ctc_weight=1e3))
    assert encoder_calls == [1, 1, 1]  # with or without CTC, beams or not
    assert steps > 0 and len(scorer_calls) > steps  # weight 0: attention alone
    for prediction in (heavy, plain, greedy):
        assert 0.0 <= prediction.confidence <= 1.0

    # With CTC weighing (almost) all, what comes out is at least as likely to CTC.
    inputs = recognizer.adapter.inputs(recognizer.processor, [image.convert("RGB")], "")
    encoder, decoder = recognizer.model.get_encoder(), recognizer.model.decoder
    with torch.inference_mode():
        states = encoder(**inputs).last_hidden_state
        log_probs = ctc.frame_log_probs(ctc.reading_order_states(recognizer.model, states),
                                        decoder.get_output_embeddings().weight)
        scorer = PrefixScorer(log_probs, 3, 1e3, blank=recognizer.model.config.pad_token_id,
                              eos=recognizer.model.generation_config.eos_token_id,
                              first_symbol_id=hint["first_symbol_id"])
        # Fresh encoder outputs for each search: generate expands them in place.
        joint = recognizer.search({"encoder_outputs": encoder(**inputs)}, options,
                                  logits_processor=logits_processor(scorer)).sequences
        alone = recognizer.search({"encoder_outputs": encoder(**inputs)}, options).sequences
    texts = recognizer.tokenizer.batch_decode(torch.cat([joint, alone]),
                                              skip_special_tokens=True)
    assert [heavy.latex_raw, plain.latex_raw] == [t.strip() for t in texts]
    special = set(recognizer.tokenizer.all_special_ids)
    assert [heavy.n_tokens, plain.n_tokens] == [
        sum(t not in special for t in row) for row in (joint[0].tolist(), alone[0].tolist())]

    def ctc_score(sequence) -> float:
        ids = [t for t in sequence.tolist() if t >= hint["first_symbol_id"]]
        return ctc_log_likelihood(log_probs[0], ids, recognizer.model.config.pad_token_id)

    assert ctc_score(joint[0]) >= ctc_score(alone[0])


def test_a_batch_scores_each_image_against_its_own_frames(tiny_run, tmp_path,
                                                          monkeypatch):
    """generate expands the encoder outputs per beam in place, so the CTC scorer must be
    built from them before the search: one set of frames per image, not per beam."""
    from model import ctc_prefix
    from model.images import formula_image
    from model.loading import load_recognizer
    from model.options import InferenceOptions
    from training.export.bundled import main as export

    out = tmp_path / "bundled"
    assert export(["--run-dir", str(tiny_run), "--out", str(out),
                   "--recipe", "bundled-tiny"]) == 0
    recognizer = load_recognizer(out, device="cpu", threads=1)
    frames_per_scorer = []
    built = ctc_prefix.PrefixScorer.__init__
    monkeypatch.setattr(ctc_prefix.PrefixScorer, "__init__", lambda self, log_probs, *a, **k:
                        frames_per_scorer.append(len(log_probs)) or built(self, log_probs, *a, **k))
    images = [formula_image(), formula_image(600, 60).rotate(180)]
    options = InferenceOptions(num_beams=3, max_new_tokens=6, ctc_weight=1e3)
    together = recognizer.recognize_batch(images, options)
    alone = [recognizer.recognize(image, options) for image in images]
    assert frames_per_scorer == [2, 1, 1]
    assert [(p.latex_raw, p.n_tokens) for p in together] == [
        (p.latex_raw, p.n_tokens) for p in alone]


def test_export_of_an_average_says_which_checkpoints_went_in(tiny_run, tmp_path):
    from model.loading import load_recognizer
    from training.export.average import main as average
    from training.export.bundled import main as export

    run = tiny_run
    averaged = tmp_path / "avg"
    assert average([str(run / "checkpoint-1"), str(run / "checkpoint-2"),
                    "--out", str(averaged)]) == 0
    out = tmp_path / "bundled"
    assert export(["--checkpoint", str(averaged), "--run-dir", str(run),
                   "--out", str(out)]) == 0
    card = (out / "README.md").read_text()
    assert "mean of 2 checkpoints (checkpoint-1, checkpoint-2" in card
    assert "optimizer steps | 2" in card
    assert load_recognizer(out, device="cpu", threads=1).info.parameters > 0


@pytest.mark.parametrize(("launch", "factor"), [
    (None, 1),  # runs from before launch.json: one process
    ({"world_size": 2, "gradient_accumulation_steps": 1}, 2),
    ({"world_size": 2, "gradient_accumulation_steps": 4}, 8),
    ({"world_size": 1}, 1),
])
def test_samples_seen_count_every_process(tmp_path, launch, factor):
    from training.export.bundled import launch_factor

    if launch is not None:
        (tmp_path / "launch.json").write_text(json.dumps(launch))
    assert launch_factor(tmp_path) == factor


def _logged(*rates):
    return [{"step": 10 * (i + 1), "learning_rate": lr} for i, lr in enumerate(rates)]


@pytest.mark.parametrize(("history", "restarts"), [
    (_logged(1e-5, 3e-4, 6e-4, 3e-4, 1e-5), []),  # warm-up then cosine: no restart
    (_logged(6e-4, 3e-4, 1.3e-5, 4e-4, 3e-4), [(40, 1.3e-5, 4e-4)]),  # resumed, longer
    (_logged(6e-4, 3e-4, 2.5e-4), []),  # small wobbles are not restarts
    ([{"step": 5, "loss": 1.0}], []),  # nothing logged
])
def test_lr_restarts_find_resumes_with_a_longer_schedule(history, restarts):
    from training.export.bundled import lr_restarts

    assert lr_restarts(history) == restarts


def test_model_card_tells_the_run_history(tmp_path):
    from training.export.bundled import history_section

    assert history_section([], None) == ""
    text = history_section(["At step 40 the learning rate went up"], "data/rendered-b added")
    assert text.startswith("## History of this run")
    assert "- At step 40" in text and "- data/rendered-b added" in text


@pytest.mark.parametrize(("options", "ctc_weight", "words"), [
    ({"num_beams": 1}, 0.0, "greedy decoding"),
    ({"num_beams": 3}, 0.0, "beam search (3 beams)"),
    ({"num_beams": 3}, 0.3, "beam search (3 beams), joint with CTC at weight 0.3"),
    ({"num_beams": 1}, 0.3, "greedy decoding, joint with CTC at weight 0.3"),
    ({}, None, "greedy decoding"),  # reports from before options were recorded
])
def test_model_card_names_the_decoding_it_was_measured_with(options, ctc_weight, words):
    from training.export.bundled import decoding

    assert decoding(options, ctc_weight) == words


def test_polish_stage_continues_an_exported_folder(tiny_run, tmp_path):
    """bundled-polish starts from an exported model (no optimiser state) and trains it."""
    from safetensors.torch import load_file

    from training.export.bundled import main as export
    from training.trainer.train import main as train

    exported = tmp_path / "exported"
    assert export(["--run-dir", str(tiny_run), "--out", str(exported)]) == 0
    data = [{"path": "tests/data/im2latex-mini", "train_split": "train",
             "eval_split": None, "train_rows": 8}]
    out = tmp_path / "polish"
    assert train(["--recipe", "bundled-polish", "--model", str(exported),
                  "--output-dir", str(out), "--max-steps", "2",
                  "--set", f"datasets={json.dumps(data)}",
                  "--set", "training_args.per_device_train_batch_size=4",
                  "--set", "training_args.save_strategy=no",
                  "--set", "training_args.logging_steps=1",
                  "--set", "max_target_length=64"]) == 0
    log = json.loads((out / "train_log.json").read_text())
    losses = [e["loss"] for e in log["log_history"] if "loss" in e]
    assert len(losses) == 2 and all(math.isfinite(loss) for loss in losses)
    assert log["log_history"][0]["encoder_loss"] > 0  # the CTC term came along
    before = load_file(exported / "model.safetensors")
    after = load_file(out / "model.safetensors")
    assert before.keys() == after.keys()
    assert any(not before[k].equal(after[k]) for k in before)


@pytest.mark.parametrize(("name", "words"), [
    ("bundled", ["rebuilds from scratch", "--recipe bundled", "--run-dir runs/bundled\n"]),
    ("bundled-polish", ["later stage that continues the model in `model/bundled`",
                        "this stage only", "--recipe bundled-polish",
                        "--run-dir runs/bundled-polish"]),
])
def test_model_card_says_how_to_rebuild_it(name, words):
    from training.export.bundled import recipe_text
    from training.recipe import load_recipe

    text = recipe_text(load_recipe(name))
    assert all(w in text for w in words), text


def test_a_bf16_export_with_a_devset_report_has_its_tables_and_licences(tiny_run, tmp_path):
    import torch
    from safetensors.torch import load_file

    from model.loading import load_recognizer
    from training.evaluate.pix2tex.compare import Example, score_runs
    from training.export.bundled import main as export

    examples = [Example(tmp_path / "a.png", "x", {"length": "0-39"}),
                Example(tmp_path / "b.png", "y" * 90, {"length": "85-124"})]
    runs = [{"name": "snaptex (old)", "texts": ["x", "y"], "seconds": [0.1, 0.2]},
            {"name": "snaptex (new)", "texts": ["x", "y" * 90], "seconds": [0.1, 0.2]}]
    report = {"images": 2, "data": "/devsets/long", "threads": 2, "command": "compare --x",
              "machine": {"cpu": "Test CPU", "native_bf16": False},
              "scores": score_runs(runs, examples)}
    (tmp_path / "devset.json").write_text(json.dumps(report))
    out = tmp_path / "bundled"
    assert export(["--run-dir", str(tiny_run), "--out", str(out), "--dtype", "bfloat16",
                   "--devset-report", str(tmp_path / "devset.json")]) == 0
    weights = load_file(str(out / "model.safetensors"))
    assert {t.dtype for t in weights.values()} == {torch.bfloat16}
    card = (out / "README.md").read_text()
    assert "bfloat16 safetensors" in card
    assert "2 images of `/devsets/long`, 2 threads each, Test CPU (no native bf16)" in card
    assert "| snaptex (new) | 2 | " in card and "| 85-124 | 1 | " in card
    assert "Reproduce: `compare --x`" in card
    assert "Not built from: pix2tex's checkpoint (CC BY-NC-SA)" in card
    recognizer = load_recognizer(out, device="cpu", dtype="float32", threads=1)
    assert recognizer.info.dtype == "float32"  # upcast where bf16 is not native
