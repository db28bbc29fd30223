"""Vocabulary pruning, tiny T5Gemma-2: same tokens in-vocabulary, bytes outside."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch

from model.options import SEED_PROMPT
from training.models.prune_vocab import PruneError, main, prune_checkpoint
from training.models.token_selection import BpeVocab, bpe_trace, read_corpus, select_tokens

FORMULAS = Path(__file__).resolve().parents[2] / "data" / "formulas"  # tests/data
SMALL_CORPUS = read_corpus([FORMULAS / "math_competition" / "formulas.txt"], limit=150)
IN_VOCAB = [f for i, f in enumerate(SMALL_CORPUS) if i % 10][:8]  # not held out
OOV_TEXT = "\\oint_{∂Ω} ω = ∫ é"


@pytest.fixture(scope="module")
def pruned(tiny_model_dir, tmp_path_factory):
    root = tmp_path_factory.mktemp("prune")
    src = root / "src"
    shutil.copytree(tiny_model_dir, src)
    report = prune_checkpoint(src, root / "pruned", SMALL_CORPUS)
    return src, root / "pruned", report


def image():
    from PIL import Image, ImageDraw

    canvas = Image.new("RGB", (160, 48), "white")
    ImageDraw.Draw(canvas).text((8, 16), "x^2 + 1", fill="black")
    return canvas


# ---------------------------------------------------------------- pure functions

MERGES = [("a", "b"), ("ab", "c"), ("b", "c"), ("c", "d")]
VOCAB = {
    t: i for i, t in enumerate(["<pad>", "a", "b", "c", "d", "ab", "abc", "bc", "cd"])
}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("abc", {"a", "b", "c", "ab", "abc"}),  # (a,b) outranks (b,c): bc never forms
        ("bc", {"b", "c", "bc"}),
        ("cd", {"c", "d", "cd"}),
        ("abcd", {"a", "b", "c", "d", "ab", "abc"}),  # abc then nothing joins d
        ("x", set()),  # not in the vocabulary: byte fallback, no symbol kept
    ],
)
def test_bpe_trace(text, expected):
    ranks = {pair: rank for rank, pair in enumerate(MERGES)}
    assert bpe_trace(text, ranks, VOCAB) == expected


def test_select_tokens_keeps_specials_bytes_and_traces():
    vocab = {**VOCAB, "<0x00>": 9, "<0xFF>": 10, "<unused0>": 11, "<image>": 12}
    added = [
        {"id": i, "content": t, "special": True}
        for t, i in vocab.items()
        if t in ("<pad>", "<unused0>", "<image>")
    ]
    bpe = BpeVocab(vocab, MERGES, added)
    kept = select_tokens(bpe, {VOCAB["abc"]: 3, VOCAB["cd"]: 1}, min_count=2)
    names = {t for t, i in vocab.items() if i in kept}
    assert names == {"<pad>", "<image>", "<0x00>", "<0xFF>", "a", "b", "c", "ab", "abc"}
    assert kept == sorted(kept)


# ---------------------------------------------------------------- the tool on a model


def test_report_and_hints(pruned):
    _, dst, report = pruned
    assert report["kept_vocab"] < report["original_vocab"]
    assert report["coverage_seen"]["identical_pct"] == 100.0
    assert report["coverage_held_out"]["roundtrip_pct"] == 100.0
    hints = json.loads((dst / "snaptex.json").read_text())
    assert hints["prune_vocab"]["kept_vocab"] == report["kept_vocab"]
    assert hints["prune_vocab"]["oov_policy"] == "byte_fallback"


def test_in_vocabulary_text_tokenizes_identically(pruned):
    from transformers import AutoProcessor

    src, dst, report = pruned
    old_to_new = {old: new for new, old in enumerate(report["kept_ids"])}
    original = AutoProcessor.from_pretrained(src).tokenizer
    small = AutoProcessor.from_pretrained(dst).tokenizer
    for text in [SEED_PROMPT, *IN_VOCAB]:
        assert [old_to_new[i] for i in original.encode(text)] == small.encode(text)


def test_pruned_model_generates_the_same_tokens(pruned):
    from transformers import AutoModelForSeq2SeqLM, AutoProcessor

    src, dst, report = pruned
    kept = report["kept_ids"]
    old_to_new = {old: new for new, old in enumerate(kept)}
    models, outputs, texts = {}, {}, {}
    for name, folder in (("original", src), ("pruned", dst)):
        processor = AutoProcessor.from_pretrained(folder)
        model = AutoModelForSeq2SeqLM.from_pretrained(folder).eval()
        inputs = processor(text=SEED_PROMPT, images=image(), return_tensors="pt")
        extra = {}
        if name == "original":  # the pruned model = the original restricted to kept ids
            extra["suppress_tokens"] = sorted(
                set(range(report["original_vocab"])) - set(kept)
            )
        with torch.no_grad():
            out = model.generate(
                **inputs, max_new_tokens=16, min_new_tokens=16, do_sample=False, **extra
            )
        models[name], outputs[name] = (model, inputs), out[0].tolist()
        texts[name] = processor.batch_decode(out, skip_special_tokens=True)
    assert [old_to_new[i] for i in outputs["original"]] == outputs["pruned"]
    assert texts["original"] == texts["pruned"]
    assert_same_logits(models, kept)


def assert_same_logits(models, kept):
    """Teacher-forced: the pruned logits are the original's kept columns."""
    (orig, orig_in), (small, small_in) = models["original"], models["pruned"]
    steps = torch.tensor([[2, 5, 9, 3]])  # bos + ids present in both (specials/bytes)
    mapped = torch.tensor([[kept.index(int(i)) for i in steps[0]]])
    with torch.no_grad():
        a = orig(**orig_in, decoder_input_ids=steps).logits[..., kept]
        b = small(**small_in, decoder_input_ids=mapped).logits
    torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-5)


def test_out_of_vocabulary_text_falls_back_to_bytes(pruned):
    from transformers import AutoProcessor

    src, dst, _ = pruned
    original = AutoProcessor.from_pretrained(src).tokenizer
    small = AutoProcessor.from_pretrained(dst).tokenizer
    ids = small.encode(OOV_TEXT, add_special_tokens=False)
    assert small.unk_token_id not in ids
    assert small.decode(ids) == OOV_TEXT
    assert any(t.startswith("<0x") for t in small.convert_ids_to_tokens(ids))
    assert len(ids) >= len(original.encode(OOV_TEXT, add_special_tokens=False))


def test_cli_reports_bad_input(tmp_path, capsys):
    assert (
        main(
            [
                str(tmp_path / "missing"),
                str(tmp_path / "out"),
                "--corpus",
                str(FORMULAS / "katex_tests" / "formulas.txt"),
            ]
        )
        == 2
    )
    assert "error:" in capsys.readouterr().err
    with pytest.raises(PruneError):
        read_corpus([tmp_path / "nothing.txt"])


def test_cli_int8_flag_writes_the_hint_the_loader_follows(tiny_model_dir, tmp_path):
    from model.manifest import read_hints

    corpus = tmp_path / "formulas.txt"
    corpus.write_text("\n".join(SMALL_CORPUS), encoding="utf-8")
    out = tmp_path / "out"
    assert main([str(tiny_model_dir), str(out), "--corpus", str(corpus), "--int8-decoder"]) == 0
    hints = read_hints(out)
    assert hints.cpu.quantize == "int8-decoder" and hints.prune_vocab
