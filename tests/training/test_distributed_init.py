"""Two gloo processes share one initial model folder: the main process builds it once."""

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

PROBE = Path(__file__).with_name("distributed_probe.py")
REPO = PROBE.parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_two_processes_build_the_initial_folder_once(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1",
           "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    done = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", "2",
         "--master-addr", "127.0.0.1", "--master-port", str(free_port()),
         str(PROBE), str(tmp_path)],
        cwd=tmp_path, env=env, capture_output=True, timeout=600)
    assert done.returncode == 0, done.stderr.decode()[-3000:]
    assert (tmp_path / "builds.log").read_text().split() == ["0"]  # once, by rank 0
    assert (tmp_path / "run" / "init" / "config.json").is_file()
    ranks = [json.loads((tmp_path / f"rank-{r}.json").read_text()) for r in (0, 1)]
    assert [r["world_size"] for r in ranks] == [2, 2]
    assert {r["backend"] for r in ranks} == {"gloo"}
    # Both loaded the one folder the main process wrote, and the same data.
    assert ranks[0]["checksum"] == ranks[1]["checksum"]
    assert ranks[0]["rows"] == ranks[1]["rows"] == 4
