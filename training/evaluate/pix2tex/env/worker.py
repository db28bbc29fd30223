"""pix2tex behind JSON lines on stdin/stdout, run by pix2tex's own interpreter.

Started by :mod:`training.evaluate.pix2tex.compare` with the cached pix2tex venv's python, so
pix2tex's torch, timm and x-transformers never meet SnapTeX's. The protocol:

  worker -> {"ready": true, "load_s": 3.1, "versions": {...}}     once, after loading
  worker -> {"fatal": "why"}                                     instead, then exit 1
  caller -> {"id": 7, "path": "/abs/x.png", "glyph_px": null}    one image ("glyph_px":
            a number scales the image first so its glyph height is that many pixels)
  worker -> {"id": 7, "latex": "...", "seconds": 0.8, "cpu_seconds": 1.5, "scale": 1.0}
            or {"id": 7, "error": "why"}                          and keeps reading
  caller closes stdin                                            worker exits 0

Only this script's own folder (for glyph_scale) goes on sys.path besides the venv's.
The network is refused for the whole process: pix2tex must run on the files it has.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))


def refuse_network() -> None:
    def refuse(self, *args, **kwargs):
        raise OSError("network blocked by the pix2tex worker (offline run)")

    socket.socket.connect = refuse
    socket.create_connection = lambda *a, **k: refuse(None)


def send(message: dict) -> None:
    sys.stdout.write(json.dumps(message, ensure_ascii=False) + "\n")
    sys.stdout.flush()


class Pix2Tex:
    """pix2tex's own ``LatexOCR`` on given weights, without its image resizer."""

    def __init__(self, weights: Path, threads: int, seed: int) -> None:
        import torch
        from munch import Munch
        from pix2tex import cli

        torch.set_num_threads(threads)
        if not weights.is_file():
            raise FileNotFoundError(f"no pix2tex weights at {weights}")
        cli.clipboard.copy = lambda text: None  # LatexOCR copies each answer; not here
        arguments = Munch({"config": "settings/config.yaml", "checkpoint": str(weights),
                           "no_cuda": True, "no_resize": True})
        self.torch, self.seed = torch, seed
        self.model = cli.LatexOCR(arguments)

    def read(self, path: Path, glyph_px: float | None) -> tuple[str, float]:
        from glyph_scale import scaled_to_glyph_height
        from PIL import Image

        with Image.open(path) as raw:
            image = raw.convert("RGB")
        factor = 1.0
        if glyph_px is not None:
            image, factor = scaled_to_glyph_height(image, glyph_px)
        # pix2tex samples (temperature 0.2, top 10% of logits): seeding per image makes
        # each answer reproducible and independent of the order images come in.
        self.torch.manual_seed(self.seed)
        return self.model(image), factor


def versions() -> dict:
    from importlib.metadata import version

    names = ("pix2tex", "torch", "timm", "x-transformers", "albumentations", "transformers")
    return {name: version(name) for name in names}


def serve(model: Pix2Tex, lines) -> None:
    for line in lines:
        if not line.strip():
            continue
        request_id = None
        try:
            request = json.loads(line)
            request_id = request["id"]
            started, cpu_started = time.perf_counter(), time.process_time()
            latex, factor = model.read(Path(request["path"]), request.get("glyph_px"))
            send({"id": request_id, "latex": latex, "scale": round(factor, 4),
                  "seconds": time.perf_counter() - started,
                  "cpu_seconds": time.process_time() - cpu_started})
        except Exception as exc:  # one bad image must not end the run
            send({"id": request_id, "error": f"{type(exc).__name__}: {exc}"[:300]})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights", type=Path, required=True)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    os.environ.setdefault("OMP_NUM_THREADS", str(args.threads))
    os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")  # it asks PyPI for news
    refuse_network()
    started = time.perf_counter()
    try:
        model = Pix2Tex(args.weights, args.threads, args.seed)
        found = versions()
    except Exception as exc:
        send({"fatal": f"{type(exc).__name__}: {exc}"[:500]})
        return 1
    send({"ready": True, "load_s": round(time.perf_counter() - started, 3), "versions": found})
    serve(model, sys.stdin)
    return 0


if __name__ == "__main__":
    sys.exit(main())
