"""A stdlib-only stand-in for training/evaluate/pix2tex/env/worker.py (its JSON-lines protocol).

  --behaviour ok       answer each image: with glyph_px set, the text of the .tex file
                       beside the PNG (a perfect reader); without, "x" (a wrong one)
  --behaviour fatal    report {"fatal": ...} instead of ready and exit 1
  --behaviour garbage  print a non-JSON line before every message
  --behaviour die      exit 3 on the second image
A missing file is answered with {"error": ...}, as the real worker does.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def send(message: dict, garbage: bool) -> None:
    if garbage:
        print("Last image is: something pix2tex printed", flush=True)
    print(json.dumps(message), flush=True)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--behaviour", default="ok")
    args = parser.parse_args()
    garbage = args.behaviour == "garbage"
    if args.behaviour == "fatal":
        send({"fatal": "FileNotFoundError: no pix2tex weights at /nowhere"}, False)
        return 1
    send({"ready": True, "load_s": 0.01, "versions": {"pix2tex": "fake"}}, garbage)
    for count, line in enumerate(sys.stdin, 1):
        request = json.loads(line)
        if args.behaviour == "die" and count == 2:
            return 3
        png = Path(request["path"])
        if not png.is_file():
            send({"id": request["id"], "error": f"FileNotFoundError: {png}"}, garbage)
            continue
        glyph_px = request.get("glyph_px")
        tex = png.with_suffix(".tex")
        latex = tex.read_text().strip() if glyph_px is not None and tex.is_file() else "x"
        scale = 1.0 if glyph_px is None else glyph_px / 10
        send({"id": request["id"], "latex": latex, "scale": scale, "seconds": 0.001,
              "cpu_seconds": 0.002}, garbage)
    return 0


if __name__ == "__main__":
    sys.exit(main())
