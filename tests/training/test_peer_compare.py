"""training.evaluate.peer_compare: both models on the same images, offline, like-for-like beams.

The real peer (``latex-ocr-junia``, the ``[peer]`` extra) is not installed for the test
run; a fake peer class takes its place, and the bundled model is the real one.
"""

from __future__ import annotations

import argparse
import json
import socket
import sys
from pathlib import Path

import pytest

from training.evaluate import peer_compare as pc

IM2LATEX = Path(__file__).resolve().parents[1] / "data" / "im2latex-mini"  # tests/data


class FakePeer:
    """Reads each PNG it is given; answers one fixed formula; checks it is offline."""

    name = "fake-peer"
    answer = r"\frac { a } { b }"

    def __init__(self, beam_size: int) -> None:
        self.beam_size, self.load_s, self.seen = beam_size, 0.0, []

    def read(self, png_path: Path) -> str:
        from PIL import Image

        with Image.open(png_path) as image:  # a real file, as the real peer reads
            self.seen.append(image.size)
        with pytest.raises(OSError, match="network blocked"):
            socket.create_connection(("127.0.0.1", 9))
        return self.answer


def test_no_network_refuses_connections_and_restores_them():
    original = socket.socket.connect
    with pc.no_network(), pytest.raises(OSError, match="network blocked"):
        socket.create_connection(("127.0.0.1", 9))
    assert socket.socket.connect is original


@pytest.mark.parametrize(
    ("metrics", "latency", "row"),
    [
        ({"bleu": 0.81849, "edit_distance": 0.1144, "exact_match": 0.1},
         {"p50": 487.4, "p95": 900.6}, "| ours | 0.818 | 0.114 | 0.100 | 487 | 901 | 4.2 |"),
        ({"bleu": 0.0, "edit_distance": 1.0, "exact_match": 0.0},
         {"p50": 162000.0, "p95": 199186.0},
         "| ours | 0.000 | 1.000 | 0.000 | 162000 | 199186 | 4.2 |"),
    ],
)
def test_table_rows(metrics, latency, row):
    lines = pc.table([{"name": "ours", "metrics": metrics, "latency_ms": latency,
                       "load_s": 4.2}]).splitlines()
    assert lines[0].startswith("| model | BLEU-4") and lines[2] == row


def test_timed_warms_up_untimed_and_keeps_order():
    calls = []
    texts, latencies = pc.timed(lambda x: calls.append(x) or f"t{x}", [1, 2, 3])
    assert calls == [1, 1, 2, 3] and texts == ["t1", "t2", "t3"] and len(latencies) == 3


def test_both_models_read_the_same_images_with_the_same_beams(monkeypatch):
    made = []

    class Recording(FakePeer):
        def __init__(self, beam_size: int) -> None:
            super().__init__(beam_size)
            made.append(self)

    args = argparse.Namespace(model=None, data=str(IM2LATEX), split="test", limit=2,
                              shuffle_seed=0, threads=1, beams=2, argv=["--limit", "2"])
    document = pc.compare(args, peer_class=Recording)
    (peer,) = made
    assert peer.beam_size == 2 and len(peer.seen) == 3  # warm-up + the two images
    ours, theirs = document["models"]
    assert ours["name"] == "snaptex (bundled)" and theirs["name"] == "fake-peer (beam 2)"
    assert theirs["predictions"] == [FakePeer.answer] * 2
    assert len(ours["predictions"]) == len(document["references"]) == 2
    # The bundled model reads real test images far better than a constant answer.
    assert ours["metrics"]["edit_distance"] < theirs["metrics"]["edit_distance"]
    assert document["beams"] == 2 and json.dumps(document)


def test_a_missing_peer_is_a_clear_error(monkeypatch, capsys, tmp_path):
    monkeypatch.setitem(sys.modules, "latex_ocr_junia", None)  # import fails
    code = pc.main(["--data", str(IM2LATEX), "--limit", "1",
                    "--output", str(tmp_path / "peer.json")])
    assert code != 0
    assert "pip install latex-ocr-junia" in capsys.readouterr().err
    assert not (tmp_path / "peer.json").exists()


@pytest.mark.parametrize("bad", [["--beams", "0"], ["--limit", "0"]])
def test_bad_arguments_are_refused(bad, capsys):
    with pytest.raises(SystemExit) as exit_info:
        pc.main(bad)
    assert exit_info.value.code == 2 and "at least 1" in capsys.readouterr().err
