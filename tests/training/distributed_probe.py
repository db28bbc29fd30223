"""One process of the two-process (gloo) test of ``training.trainer.train.model_and_data``.

Run by ``torchrun --nproc-per-node 2 distributed_probe.py OUT``: every process runs the
real steps 4 and 5 of ``snaptex train`` for the debug recipe (its ``build`` hook makes
``<output>/init``) on the repository's own image/LaTeX pairs, records whether it built
the initial model, and writes what it loaded to ``OUT/rank-N.json``.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PAIRS = REPO / "tests" / "bundled" / "data"


def main(out: Path) -> None:
    from training.models import builders
    from training.recipe import load_recipe
    from training.trainer import train

    rank = int(os.environ["RANK"])
    real_build = builders.build_t5gemma2

    def recording_build(folder, *args, **kwargs):
        with (out / "builds.log").open("a") as log:
            log.write(f"{rank}\n")
        time.sleep(1.0)  # long enough for a second, racing builder to start meanwhile
        return real_build(folder, *args, **kwargs)

    builders.build_t5gemma2 = recording_build
    recipe = load_recipe("debug-tiny-cpu", {
        "output_dir": str(out / "run"),
        "datasets": [{"path": str(PAIRS), "train_rows": 4, "eval_rows": 2}],
    })
    arguments = train.training_arguments(recipe, "cpu", train.output_dir_of(recipe))
    net, _, rows, _ = train.model_and_data(recipe, arguments)
    checksum = float(sum(p.detach().double().sum() for p in net.parameters()))
    (out / f"rank-{rank}.json").write_text(json.dumps({
        "world_size": arguments.world_size,
        "backend": str(arguments.distributed_state.backend),
        "checksum": checksum,
        "rows": len(rows),
    }))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
