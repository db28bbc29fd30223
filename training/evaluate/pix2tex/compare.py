"""SnapTeX against pix2tex on the same images, in one run, each in its own environment.

    python -m training.evaluate.pix2tex.compare --data /work/devsets/pdf-snips --out report.json
    python -m training.evaluate.pix2tex.compare --data ../shared/data/im2latex-100k --split test \\
        --limit 200 --out im2latex.json

``--data`` is either a folder of ``name.png`` + ``name.tex`` pairs (optionally with a
manifest ``devset.jsonl`` or ``meta.jsonl``: one JSON object per image with ``file``,
optionally ``text``, ``font``, ``dpi``, ``theme``) or a Hugging Face style dataset folder
(parquet splits with ``image`` and ``text`` columns; ``--split``, ``--limit``).

pix2tex 0.1.4 with its v0.0.1 weights runs in a cached venv of its own
(:mod:`training.evaluate.pix2tex.venv`, made on first use) behind JSON lines
(:mod:`training.evaluate.pix2tex.env.worker`); SnapTeX runs here through
:func:`model.loading.load_recognizer` with its default decoding. Both get the same number
of CPU threads and no network. pix2tex is read twice: as it comes (its own padding and
crop, no resizer net: its resizer is not in the weights package) and with each image
first scaled so its glyph height is ``--glyph-px`` pixels (:mod:`training.evaluate.pix2tex.env.
glyph_scale`; what the resizer net does for pix2tex's users). All answers are scored by
:func:`training.evaluate.metrics.score_texts` (spacing-insensitive), overall and per style when
the manifest records one. Seconds per image include reading the PNG, pre-processing,
decoding and clean-up, after one untimed warm-up image per system.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import logging
import os
import platform
import queue
import shlex
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import MutableMapping
from dataclasses import dataclass, field
from pathlib import Path

logger = logging.getLogger(__name__)

MANIFESTS = ("devset.jsonl", "meta.jsonl")
STYLE_KEYS = ("font", "dpi", "theme", "length")
DPI_BAND_EDGES = (96, 120, 144, 168, 193)  # bands of 24 DPI over the snips' 96-192
# Formula length in non-space characters: errors grow with it, and sets differ most here.
LENGTH_BAND_EDGES = (0, 40, 85, 125, 170)
# Glyph height (px) pix2tex reads best; measured by --sweep on a calibration set built
# with another seed than the reported dev set (docs/peer-comparison.md).
DEFAULT_GLYPH_PX = 14.0
WORKER = Path(__file__).resolve().parent / "env" / "worker.py"


class CompareError(RuntimeError):
    """Why the comparison cannot run, in one line."""


@dataclass(frozen=True)
class Example:
    path: Path
    text: str
    style: dict = field(default_factory=dict)


# ---- data -------------------------------------------------------------------------


def dpi_band(dpi) -> str:
    """'120-143' for 130; bands of 24 DPI; outside 96-192: '<96' or '>192'."""
    dpi = int(dpi)
    if dpi < DPI_BAND_EDGES[0]:
        return f"<{DPI_BAND_EDGES[0]}"
    for low, high in itertools.pairwise(DPI_BAND_EDGES):
        if dpi < high:
            return f"{low}-{high - 1}"
    return f">{DPI_BAND_EDGES[-1] - 1}"


def length_band(text: str) -> str:
    """'40-84' for a formula of 60 non-space characters; '170+' past the last edge."""
    from training.render.formulas import formula_key

    length = len(formula_key(text))
    for low, high in itertools.pairwise(LENGTH_BAND_EDGES):
        if length < high:
            return f"{low}-{high - 1}"
    return f"{LENGTH_BAND_EDGES[-1]}+"


def style_of(record: dict) -> dict:
    """The style fields a manifest record names, DPI and formula length as bands."""
    style = {key: record[key] for key in STYLE_KEYS if record.get(key) is not None}
    if "dpi" in style:
        style["dpi"] = dpi_band(style["dpi"])
    if record.get("text"):
        style["length"] = length_band(record["text"])
    return {key: str(value) for key, value in style.items()}


def _manifest(folder: Path) -> Path | None:
    return next((folder / m for m in MANIFESTS if (folder / m).is_file()), None)


def _text_beside(png: Path) -> str:
    tex = png.with_suffix(".tex")
    if not tex.is_file():
        raise CompareError(f"{png} has no text in the manifest and no {tex.name} beside it")
    return tex.read_text(encoding="utf-8").strip()


def load_folder(folder: Path) -> list[Example]:
    """Examples of a snip folder: manifest records, or every ``*.png`` with a ``.tex``."""
    manifest = _manifest(folder)
    if manifest is None:
        pngs = sorted(p for p in folder.rglob("*.png") if p.with_suffix(".tex").is_file())
        return [Example(p, _text_beside(p)) for p in pngs]
    examples = []
    for number, line in enumerate(manifest.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            png = folder / record["file"]
        except (ValueError, KeyError, TypeError):
            raise CompareError(f"{manifest}:{number}: not a record with a 'file'") from None
        if not png.is_file():
            raise CompareError(f"{manifest}:{number}: no image {png}")
        text = record.get("text")
        text = text if text is not None else _text_beside(png)
        examples.append(Example(png, text, style_of({**record, "text": text})))
    return examples


def spread(items: list, count: int | None) -> list:
    """``count`` items evenly spaced over ``items`` (all if None or more): a short run
    still sees every font, DPI band and theme of a folder written in batches."""
    if count is None or count >= len(items):
        return list(items)
    return [items[(i * len(items)) // count] for i in range(count)]


def load_split(folder: Path, split: str, limit: int | None, seed: int | None,
               workdir: Path) -> list[Example]:
    """The first ``limit`` rows of a dataset split (as ``snaptex eval``), as PNG files."""
    from datasets import load_dataset

    try:
        dataset = load_dataset(str(folder), split=split)
    except (FileNotFoundError, ValueError, OSError) as exc:
        raise CompareError(f"cannot load split {split!r} of {folder}: {exc}") from None
    if seed is not None:
        dataset = dataset.shuffle(seed=seed)
    if limit is not None:
        dataset = dataset.select(range(min(limit, len(dataset))))
    examples = []
    for index, row in enumerate(dataset):
        path = workdir / f"{split}-{index:05d}.png"
        row["image"].save(path)
        examples.append(Example(path, row["text"]))
    return examples


def load_examples(args, workdir: Path) -> list[Example]:
    if not args.data.is_dir():
        raise CompareError(f"no data folder at {args.data}")
    if _manifest(args.data) or not (args.data / args.split).is_dir():
        examples = spread(load_folder(args.data), args.limit)
    else:
        examples = load_split(args.data, args.split, args.limit, args.shuffle_seed, workdir)
    if not examples:
        raise CompareError(f"no images with references in {args.data}")
    return examples


# ---- the pix2tex process ----------------------------------------------------------


class Pix2TexProcess:
    """A pix2tex worker process spoken to in JSON lines (see its module's protocol)."""

    def __init__(self, command: list[str], env: dict | None = None, timeout_s: float = 1800,
                 log_path: Path | None = None) -> None:
        self.timeout_s = timeout_s
        self._log = Path(log_path or os.devnull).open("w")  # noqa: SIM115 - closed in close()
        self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        stderr=self._log, text=True, env=env, bufsize=1)
        # A reader thread and a queue give each answer a deadline (a select() on the
        # pipe would miss lines already sitting in the file object's buffer).
        self._lines: queue.Queue = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()
        self._next_id = 0
        hello = self._message()
        if "fatal" in hello or not hello.get("ready"):
            self.close()
            raise CompareError(f"pix2tex did not start: {hello.get('fatal', hello)}")
        self.load_s, self.versions = hello.get("load_s"), hello.get("versions", {})

    def _pump(self) -> None:
        for line in self.process.stdout:
            self._lines.put(line)
        self._lines.put("")  # end of output: the process has exited

    def _message(self) -> dict:
        """The next JSON object from the worker; other lines (stray prints) are skipped."""
        deadline = time.monotonic() + self.timeout_s
        while True:
            try:
                line = self._lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise CompareError(f"pix2tex gave no answer in {self.timeout_s:.0f} s") from None
            if not line:
                raise CompareError(f"pix2tex exited ({self.process.wait()}) mid-run")
            try:
                message = json.loads(line)
            except ValueError:
                logger.debug("pix2tex printed: %s", line.rstrip())
                continue
            if isinstance(message, dict):
                return message

    def read(self, path: Path, glyph_px: float | None = None) -> dict:
        """{"latex", "seconds", "scale"} or {"error"} for one image file."""
        self._next_id += 1
        request = {"id": self._next_id, "path": str(path), "glyph_px": glyph_px}
        self.process.stdin.write(json.dumps(request) + "\n")
        self.process.stdin.flush()
        answer = self._message()
        if answer.get("id") != self._next_id:
            raise CompareError(f"pix2tex answered {answer.get('id')} to {self._next_id}")
        return answer

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.process.stdin.close()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._log.close()


def thread_limits(threads: int, passive_wait: bool = False) -> dict:
    """Thread settings both systems run under.

    By default OpenMP waits as it does for users (a short spin, then sleep): neither the
    app nor pix2tex sets a wait policy. ``passive_wait`` makes waiting threads sleep at
    once (``OMP_WAIT_POLICY=PASSIVE``), for a CPU busy with other work, where a spinning
    thread burns the time the other one needs; it also wakes a thread for each of the
    thousands of small ops of a decoder step, which doubled SnapTeX's time per image on
    2 idle cores (0.45 s against 0.23 s p50), so its figures only compare within a run.
    """
    limits = {name: str(threads)
              for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")}
    return {**limits, "OMP_WAIT_POLICY": "PASSIVE"} if passive_wait else limits


def limit_threads(env: MutableMapping[str, str], threads: int,
                  passive_wait: bool = False) -> None:
    """Put :func:`thread_limits` into ``env``, dropping a wait policy inherited from the
    caller's shell unless ``passive_wait`` asks for one."""
    if not passive_wait:
        env.pop("OMP_WAIT_POLICY", None)
    env.update(thread_limits(threads, passive_wait))


def thread_env(threads: int, passive_wait: bool = False) -> dict:
    """The environment of a child limited to ``threads`` CPU threads and no hub."""
    env = dict(os.environ)
    limit_threads(env, threads, passive_wait)
    env.update(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", NO_ALBUMENTATIONS_UPDATE="1",
               PYTHONNOUSERSITE="1")
    env.pop("PYTHONPATH", None)  # nothing of SnapTeX's on pix2tex's path
    return env


# ---- runs -------------------------------------------------------------------------


@contextlib.contextmanager
def no_network():
    """Make any socket connection in this process fail: SnapTeX must run offline."""
    original = socket.socket.connect

    def refuse(self, *args, **kwargs):
        raise OSError("network blocked by pix2tex_compare (offline run)")

    socket.socket.connect = refuse
    try:
        yield
    finally:
        socket.socket.connect = original


def run_pix2tex(worker: Pix2TexProcess, examples, glyph_px: float | None, name: str) -> dict:
    worker.read(examples[0].path, glyph_px)  # warm-up, untimed
    texts, seconds, cpu, scales, errors = [], [], [], [], 0
    for number, example in enumerate(examples, 1):
        answer = worker.read(example.path, glyph_px)
        if "error" in answer:
            errors += 1
            logger.warning("pix2tex on %s: %s", example.path.name, answer["error"])
        texts.append(answer.get("latex", ""))
        seconds.append(answer.get("seconds", 0.0))
        cpu.append(answer.get("cpu_seconds", 0.0))
        scales.append(answer.get("scale", 1.0))
        if number % 25 == 0:
            logger.info("%s: %d/%d", name, number, len(examples))
    return {"name": name, "texts": texts, "seconds": seconds, "cpu_seconds": cpu,
            "scales": scales,
            "errors": errors, "load_s": worker.load_s}


def run_snaptex(model: str | None, examples, threads: int, label: str | None = None,
                dtype: str = "auto") -> dict:
    import torch
    from PIL import Image

    from model.loading import load_recognizer

    torch.set_num_threads(threads)
    recognizer = load_recognizer(model, device="cpu", dtype=dtype, threads=threads)

    def read(path: Path) -> str:
        with Image.open(path) as raw:
            image = raw.convert("RGB")
        return recognizer.recognize(image).latex  # default decoding: the app's

    read(examples[0].path)  # warm-up, untimed
    texts, seconds, cpu = [], [], []
    for number, example in enumerate(examples, 1):
        started, cpu_started = time.perf_counter(), time.process_time()
        texts.append(read(example.path))
        seconds.append(time.perf_counter() - started)
        cpu.append(time.process_time() - cpu_started)
        if number % 25 == 0:
            logger.info("snaptex: %d/%d", number, len(examples))
    info = recognizer.info
    return {"name": f"snaptex ({label or info.name})", "texts": texts, "seconds": seconds,
            "cpu_seconds": cpu,
            "errors": 0, "load_s": info.load_s, "dtype": str(info.dtype)}


# ---- scoring and tables -----------------------------------------------------------


def scored(texts, references, seconds, cpu_seconds=None) -> dict:
    """Scores plus wall seconds per image (p50, mean) and CPU seconds per image (mean:
    on a shared machine wall time also counts other people's work; CPU time does not)."""
    from training.evaluate.metrics import score_texts

    scores = score_texts(list(texts), list(references)).to_dict()
    cpu = statistics.fmean(cpu_seconds) if cpu_seconds else float("nan")
    return {**scores, "s_p50": round(statistics.median(seconds), 3),
            "s_mean": round(statistics.fmean(seconds), 3), "cpu_s_mean": round(cpu, 3)}


def group_indices(styles: list[dict]) -> dict[str, dict[str, list[int]]]:
    """{style key: {value: [example indices]}} for keys every example records."""
    groups: dict[str, dict[str, list[int]]] = {}
    for key in STYLE_KEYS:
        if not styles or not all(key in s for s in styles):
            continue
        by_value: dict[str, list[int]] = {}
        for index, style in enumerate(styles):
            by_value.setdefault(style[key], []).append(index)
        groups[key] = dict(sorted(by_value.items(), key=lambda kv: _sort_key(kv[0])))
    return groups


def _sort_key(value: str):
    digits = "".join(ch for ch in value.split("-")[0] if ch.isdigit())
    return (0, int(digits), value) if digits else (1, 0, value)


def score_runs(runs: list[dict], examples: list[Example]) -> dict:
    references = [e.text for e in examples]
    overall = {r["name"]: scored(r["texts"], references, r["seconds"], r.get("cpu_seconds"))
               for r in runs}
    per_style = {}
    for key, by_value in group_indices([e.style for e in examples]).items():
        per_style[key] = {
            value: {r["name"]: scored([r["texts"][i] for i in idx], [references[i] for i in idx],
                                      [r["seconds"][i] for i in idx]) for r in runs}
            for value, idx in by_value.items()
        }
    return {"overall": overall, "per_style": per_style}


def overall_table(overall: dict[str, dict]) -> str:
    lines = ["| system | images | BLEU-4 | edit distance | exact match | s/image p50 | "
             "s/image mean | CPU s/image |", "|---|---|---|---|---|---|---|---|"]
    for name, s in overall.items():
        lines.append(f"| {name} | {s['count']} | {s['bleu']:.3f} | {s['edit_distance']:.3f} | "
                     f"{100 * s['exact_match']:.1f} % | {s['s_p50']:.2f} | {s['s_mean']:.2f} | "
                     f"{s.get('cpu_s_mean', float('nan')):.2f} |")
    return "\n".join(lines)


def style_table(key: str, by_value: dict[str, dict[str, dict]]) -> str:
    """One row per style value; per system: edit distance / exact match."""
    names = list(next(iter(by_value.values())))
    head = f"| {key} | images | " + " | ".join(f"{n}: ED / exact" for n in names) + " |"
    lines = [head, "|---|---|" + "---|" * len(names)]
    for value, systems in by_value.items():
        count = next(iter(systems.values()))["count"]
        cells = " | ".join(f"{s['edit_distance']:.3f} / {100 * s['exact_match']:.0f} %"
                           for s in systems.values())
        lines.append(f"| {value} | {count} | {cells} |")
    return "\n".join(lines)


def tables(scores: dict) -> str:
    parts = [overall_table(scores["overall"])]
    parts += [style_table(k, v) for k, v in scores["per_style"].items()]
    return "\n\n".join(parts)


# ---- command ----------------------------------------------------------------------


def machine() -> dict:
    """CPU model and whether it has native bf16 (what SnapTeX's CPU path keys on)."""
    model, flags = platform.processor() or platform.machine(), set()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "model name":
                model = value.strip()
            elif key.strip() == "flags":
                flags = set(value.split())
    return {"cpu": model, "cores": os.cpu_count(),
            "native_bf16": bool(flags & {"avx512_bf16", "amx_bf16"})}


def worker_command(args) -> list[str]:
    if args.pix2tex_command:
        return shlex.split(args.pix2tex_command)
    from training.evaluate.pix2tex.venv import ensure_venv, ensure_weights

    weights = ensure_weights()
    python = ensure_venv()
    return [str(python), "-I", str(WORKER), "--weights", str(weights),
            "--threads", str(args.threads), "--seed", str(args.seed)]


def split_label(model: str | None) -> tuple[str | None, str | None]:
    """``"old=model/bundled"`` -> ``("old", "model/bundled")``; a bare folder has no label."""
    if model is None:
        return None, None
    label, sep, folder = model.partition("=")
    if sep and label and "/" not in label:
        return label, folder
    return None, model


def model_labels(models: list[str | None]) -> list[str | None]:
    """Run names: a ``LABEL=`` prefix; else the recognizer's own for one model and each
    folder's path for several (two exports of one recipe share a name); numbered where
    a name repeats."""
    named = [split_label(m) for m in models]
    if len(models) == 1:
        return [named[0][0]]
    labels, seen = [], {}
    for label, folder in named:
        label = label or str(folder)
        seen[label] = seen.get(label, 0) + 1
        labels.append(label if seen[label] == 1 else f"{label} #{seen[label]}")
    return labels


def run_snaptex_models(args, examples) -> list[dict]:
    folders = [split_label(m)[1] for m in args.model]
    with no_network():
        return [run_snaptex(folder, examples, args.threads, label, args.dtype)
                for folder, label in zip(folders, model_labels(args.model), strict=True)]


def compare(args) -> dict:
    with tempfile.TemporaryDirectory(prefix="snaptex-pix2tex-") as tmp:
        examples = load_examples(args, Path(tmp))
        logger.info("%d images from %s", len(examples), args.data)
        if args.no_pix2tex:
            runs, worker = run_snaptex_models(args, examples), None
        else:
            # pix2tex starts first: a missing or broken set-up fails before SnapTeX's run.
            worker = Pix2TexProcess(worker_command(args),
                                    env=thread_env(args.threads, args.passive_wait),
                                    timeout_s=args.answer_timeout,
                                    log_path=args.out.with_suffix(".pix2tex.log"))
            try:
                runs = run_snaptex_models(args, examples)
                runs.append(run_pix2tex(worker, examples, None, "pix2tex (as it comes)"))
                runs.append(run_pix2tex(worker, examples, args.glyph_px,
                                        f"pix2tex (glyphs scaled to {args.glyph_px:g} px)"))
            finally:
                worker.close()
    scores = score_runs(runs, examples)
    return {
        "command": "python -m training.evaluate.pix2tex.compare " + " ".join(args.argv),
        "data": str(args.data), "images": len(examples), "threads": args.threads,
        "omp_wait_policy": "passive" if args.passive_wait else "default",
        "machine": machine(), "snaptex_dtype": runs[0]["dtype"], "glyph_px": args.glyph_px,
        "pix2tex_versions": worker.versions if worker else None,
        "load_s": {r["name"]: r["load_s"] for r in runs},
        "errors": {r["name"]: r["errors"] for r in runs},
        "scores": scores, "table": tables(scores),
        "examples": [{"file": str(e.path) if not str(e.path).startswith(tmp) else e.path.name,
                      "text": e.text, **e.style,
                      **{r["name"]: r["texts"][i] for r in runs}}
                     for i, e in enumerate(examples)],
        "pix2tex_scales": runs[-1].get("scales"),
    }


def sweep(args) -> dict:
    """pix2tex alone at several glyph heights: which training size fits (calibration)."""
    with tempfile.TemporaryDirectory(prefix="snaptex-pix2tex-") as tmp:
        examples = load_examples(args, Path(tmp))
        worker = Pix2TexProcess(worker_command(args),
                                env=thread_env(args.threads, args.passive_wait),
                                timeout_s=args.answer_timeout,
                                log_path=args.out.with_suffix(".pix2tex.log"))
        try:
            runs = [run_pix2tex(worker, examples, px, f"pix2tex glyphs {px:g} px")
                    for px in args.sweep]
        finally:
            worker.close()
    scores = score_runs(runs, examples)
    return {"command": "python -m training.evaluate.pix2tex.compare " + " ".join(args.argv),
            "data": str(args.data), "images": len(examples), "scores": scores,
            "table": tables(scores)}


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m training.evaluate.pix2tex.compare",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True,
                        help="snip folder (png + tex, optional manifest) or dataset folder")
    parser.add_argument("--split", default="test", help="dataset split (default test)")
    parser.add_argument("--limit", type=int,
                        help="only N images: a split's first N, a folder's N evenly spaced")
    parser.add_argument("--shuffle-seed", type=int, help="sample a dataset split at random")
    parser.add_argument("--model", nargs="+", default=[None], metavar="FOLDER",
                        help="SnapTeX model folder(s), each optionally LABEL=FOLDER (default: "
                             "the bundled model); several are read one after another in the "
                             "same run (old against new)")
    parser.add_argument("--dtype", default="auto", choices=("auto", "float32", "bfloat16"),
                        help="SnapTeX's dtype (auto: bf16 where the CPU has it natively)")
    parser.add_argument("--no-pix2tex", action="store_true",
                        help="SnapTeX model(s) only: no pix2tex venv, a quick dev-set score")
    parser.add_argument("--threads", type=int, default=2, help="CPU threads for each system")
    parser.add_argument("--passive-wait", action="store_true",
                        help="OMP_WAIT_POLICY=PASSIVE for both systems: for a CPU busy with "
                             "other work (slower; compare only within one run)")
    parser.add_argument("--glyph-px", type=float, default=DEFAULT_GLYPH_PX,
                        help=f"glyph height pix2tex's input is scaled to (default "
                             f"{DEFAULT_GLYPH_PX:g})")
    parser.add_argument("--seed", type=int, default=0, help="pix2tex's sampling seed")
    parser.add_argument("--sweep", type=float, nargs="+", metavar="PX",
                        help="calibrate: pix2tex alone at these glyph heights")
    parser.add_argument("--answer-timeout", type=float, default=1800,
                        help="seconds pix2tex may take for one image before the run stops "
                             "(an answer that runs to 512 tokens on a busy CPU takes minutes)")
    parser.add_argument("--out", type=Path, default=Path("runs/pix2tex-compare.json"))
    # A command line standing in for the cached venv's worker (tests use a fake).
    parser.add_argument("--pix2tex-command", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.threads < 1 or (args.limit is not None and args.limit < 1) or args.glyph_px <= 0:
        parser.error("--threads, --limit and --glyph-px must be positive")
    args.argv = argv
    return args


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    from training.evaluate.pix2tex.venv import SetupError

    args.out.parent.mkdir(parents=True, exist_ok=True)
    limit_threads(os.environ, args.threads, args.passive_wait)  # before torch loads OpenMP
    try:
        document = sweep(args) if args.sweep else compare(args)
    except (CompareError, SetupError) as exc:
        print(f"pix2tex_compare: {exc}", file=sys.stderr)
        return 1
    args.out.write_text(json.dumps(document, indent=1, ensure_ascii=False))
    waiting = "passive" if args.passive_wait else "OpenMP's default"
    print(f"{document['images']} images from {args.data}, {args.threads} threads each "
          f"({waiting} wait policy), network blocked")
    if "machine" in document:
        found = document["machine"]
        print(f"CPU {found['cpu']} ({found['cores']} cores, native bf16: "
              f"{'yes' if found['native_bf16'] else 'no'}); SnapTeX in "
              f"{document['snaptex_dtype']}")
    print(document["table"])
    print(f"report: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
