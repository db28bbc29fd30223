"""SnapTeX's model against a published peer, ``latex-ocr-junia``, on the same images.

The peer (PyPI ``latex-ocr-junia``: a ViT encoder + transformer decoder, weights
shipped inside the wheel as ``assets/best.pt``) and our model read the same examples
in one run, with the network blocked for both, on the same number of CPU threads.
Both outputs are scored by :mod:`training.evaluate.metrics` exactly like ``snaptex eval``.

Each model is loaded once (load time reported separately); latency is per image:
ours from a PIL image through ``Recognizer.recognize`` (pre-processing, generation,
clean-up), the peer's from the PNG file through its own pre-processing, beam search
and decoding. Both search with the same beam width (``--beams``, default the app's; the
peer's own CLI default is 3), the peer with its CLI's length penalty of 0.6.

    pip install latex-ocr-junia            # or: pip install -e .[peer]
    python -m training.evaluate.peer_compare --limit 100 --threads 2
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import socket
import sys
import tempfile
import time
from pathlib import Path

import torch

from model.errors import SnapTexError
from model.loading import load_recognizer
from model.options import DEFAULT_BEAMS, InferenceOptions
from training.command import guarded, setup_logging
from training.data.sources import load_split, select_rows
from training.evaluate.evaluator import DEFAULT_DATA, percentile
from training.evaluate.metrics import score_texts
from training.recipe import DataSource, RecipeError

logger = logging.getLogger(__name__)


class PeerUnavailable(RuntimeError):
    """Why the peer cannot run here, in one line."""


@contextlib.contextmanager
def no_network():
    """Make any socket connection fail: proves both models run offline."""
    original = socket.socket.connect

    def refuse(self, *args, **kwargs):
        raise OSError("network blocked by peer_compare (offline check)")

    socket.socket.connect = refuse
    try:
        yield
    finally:
        socket.socket.connect = original


class JuniaPeer:
    """``latex-ocr-junia`` loaded once from the files its wheel ships."""

    name = "latex-ocr-junia"

    def __init__(self, beam_size: int = 3, length_penalty: float = 0.6) -> None:
        started = time.perf_counter()
        try:
            from latex_ocr_junia import predict
            from latex_ocr_junia.data import load_and_preprocess_image
            from latex_ocr_junia.model import build_model, load_checkpoint
            from latex_ocr_junia.tokenizer import LatexTokenizer
            from latex_ocr_junia.utils import load_model_config
        except ImportError as exc:
            raise PeerUnavailable(
                f"latex-ocr-junia is not installed ({exc}); pip install latex-ocr-junia"
            ) from None
        assets = predict.ASSETS_DIR
        weights = assets / "best.pt"
        if not weights.is_file():
            raise PeerUnavailable(f"latex-ocr-junia ships no weights at {weights}")
        self.config = load_model_config(assets / "model_config.json")
        self.tokenizer = LatexTokenizer.load(assets / "tokenizer.json")
        self.model = build_model(self.config)
        load_checkpoint(self.model, str(weights), device="cpu")  # torch.load, weights_only
        self.model.eval()
        self._preprocess = load_and_preprocess_image
        self.beam_size, self.length_penalty = beam_size, length_penalty
        self.load_s = time.perf_counter() - started
        self.weights_mb = weights.stat().st_size / 1e6

    def read(self, png_path: Path) -> str:
        image = self._preprocess(png_path, image_height=self.config.image_height,
                                 image_width=self.config.image_width, channels=1)
        with torch.no_grad():
            ids = self.model.generate(
                images=image.unsqueeze(0), bos_token_id=self.tokenizer.bos_id,
                eos_token_id=self.tokenizer.eos_id, max_length=self.config.max_length,
                beam_size=self.beam_size, length_penalty=self.length_penalty,
                no_repeat_ngram_size=0,
            )
        return self.tokenizer.decode(ids[0].cpu().numpy())


def timed(read, inputs) -> tuple[list[str], list[float]]:
    """Predictions and per-image latencies (ms), after one untimed warm-up call."""
    read(inputs[0])
    texts, latencies = [], []
    for item in inputs:
        started = time.perf_counter()
        texts.append(read(item))
        latencies.append((time.perf_counter() - started) * 1e3)
    return texts, latencies


def summary(name: str, texts, latencies, references, load_s: float) -> dict:
    scores = score_texts(texts, references).to_dict()
    return {
        "name": name, "metrics": scores, "load_s": round(load_s, 2),
        "latency_ms": {"p50": percentile(latencies, 50), "p95": percentile(latencies, 95)},
        "predictions": texts,
    }


def table(rows: list[dict]) -> str:
    lines = ["| model | BLEU-4 | edit distance | exact match | p50 ms | p95 ms | load s |",
             "|---|---|---|---|---|---|---|"]
    for r in rows:
        m, lat = r["metrics"], r["latency_ms"]
        lines.append(f"| {r['name']} | {m['bleu']:.3f} | {m['edit_distance']:.3f} | "
                     f"{m['exact_match']:.3f} | {lat['p50']:.0f} | {lat['p95']:.0f} | "
                     f"{r['load_s']:.1f} |")
    return "\n".join(lines)


def run_ours(model: str | None, images, threads: int, beams: int) -> dict:
    started = time.perf_counter()
    recognizer = load_recognizer(model, device="cpu", threads=threads)
    load_s = time.perf_counter() - started
    options = InferenceOptions(num_beams=beams)
    texts, latencies = timed(lambda im: recognizer.recognize(im, options).latex, images)
    return {"name": f"snaptex ({recognizer.info.name})", "texts": texts,
            "latencies": latencies, "load_s": load_s}


def run_peer(peer, paths: list[Path], threads: int) -> dict:
    torch.set_num_threads(threads)
    texts, latencies = timed(peer.read, paths)
    return {"name": f"{peer.name} (beam {peer.beam_size})", "texts": texts, "latencies": latencies,
            "load_s": peer.load_s}


def compare(args: argparse.Namespace, peer_class=None) -> dict:
    """Both models on the same examples; ``peer_class`` replaces :class:`JuniaPeer`."""

    dataset = select_rows(load_split(DataSource(path=args.data), args.split),
                          args.limit, args.shuffle_seed)
    images = [row["image"].convert("RGB") for row in dataset]
    references = list(dataset["text"])
    with tempfile.TemporaryDirectory() as tmp, no_network():
        # The peer loads first: a missing or broken peer fails before ours spends minutes.
        peer = (peer_class or JuniaPeer)(beam_size=args.beams)
        paths = []
        for i, image in enumerate(images):  # the peer reads files; written untimed
            paths.append(Path(tmp) / f"{i:05d}.png")
            image.save(paths[-1])
        runs = [run_ours(args.model, images, args.threads, args.beams),
                run_peer(peer, paths, args.threads)]
    rows = [summary(r["name"], r["texts"], r["latencies"], references, r["load_s"])
            for r in runs]
    return {"data": {"source": args.data, "split": args.split, "examples": len(images),
                     "shuffle_seed": args.shuffle_seed}, "threads": args.threads,
            "beams": args.beams, "references": references, "models": rows, "table": table(rows),
            "command": "python -m training.evaluate.peer_compare " + " ".join(args.argv)}


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(prog="python -m training.evaluate.peer_compare",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="our model folder (default: the bundled model)")
    parser.add_argument("--data", default=DEFAULT_DATA)
    parser.add_argument("--split", default="test")
    parser.add_argument("--limit", type=int, default=100)
    parser.add_argument("--shuffle-seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--beams", type=int, default=DEFAULT_BEAMS,
                        help=f"beam width of both models (default {DEFAULT_BEAMS}, the app's)")
    parser.add_argument("--output", type=Path, default=Path("runs/bundled/peer.json"))
    args = parser.parse_args(argv)
    if args.beams < 1 or args.limit < 1:
        parser.error("--beams and --limit must be at least 1")
    args.argv = argv

    setup_logging()
    return guarded("peer_compare", lambda: report(args),
                   (PeerUnavailable, SnapTexError, RecipeError))


def report(args: argparse.Namespace) -> int:
    document = compare(args)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(document, indent=2, ensure_ascii=False))
    print(f"{document['data']['examples']} examples, {args.threads} threads, "
          f"{args.beams} beams each, network blocked")
    print(document["table"])
    print(f"report: {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
