"""manifest.json and failures.jsonl of a render output folder: what was rendered with
which settings, how long it took, and which formulas failed; also what makes a
stopped run resumable."""

from __future__ import annotations

import json
import logging
import subprocess
from pathlib import Path

from training.render.shards import Settings

logger = logging.getLogger(__name__)

MANIFEST = "manifest.json"
FAILURES = "failures.jsonl"
FORMAT = "snaptex-rendered/1"


def _tool_versions() -> dict[str, str]:
    versions = {}
    for tool in ("latex", "dvipng"):
        done = subprocess.run(
            [tool, "--version"], capture_output=True, text=True, check=False
        )
        versions[tool] = done.stdout.splitlines()[0] if done.stdout else "unknown"
    return versions


class Manifest:
    """manifest.json + failures.jsonl of an output folder, saved after every shard."""

    def __init__(self, out: Path, settings: Settings, selection: dict) -> None:
        self.out = out
        self.path = out / MANIFEST
        self.data = {
            "format": FORMAT,
            "settings": settings.as_json(),
            "selection": selection,
            "tools": _tool_versions(),
            "shards": {},
            "seconds": 0.0,
        }
        if self.path.exists():
            self._resume(settings)

    def _resume(self, settings: Settings) -> None:
        old = json.loads(self.path.read_text(encoding="utf-8"))
        if old.get("settings") != settings.as_json():
            raise ValueError(
                f"{self.out} holds a render with other settings; use another "
                f"--out or --overwrite"
            )
        shards = {
            name: record
            for name, record in old.get("shards", {}).items()
            if record["rows"] == 0 or (self.out / name).exists()
        }
        self.data.update(shards=shards, seconds=old.get("seconds", 0.0))
        self._keep_failures(set(shards))

    def _keep_failures(self, shards: set[str]) -> None:
        """Drop failure lines of shards that will be rendered again."""
        path = self.out / FAILURES
        if path.exists():
            lines = path.read_text(encoding="utf-8").splitlines()
            kept = [line for line in lines if json.loads(line)["shard"] in shards]
            path.write_text("".join(line + "\n" for line in kept), encoding="utf-8")

    def done(self, name: str) -> bool:
        return name in self.data["shards"]

    def add(self, record: dict, seconds: float) -> None:
        with (self.out / FAILURES).open("a", encoding="utf-8") as file:
            for failure in record.pop("failures"):
                file.write(json.dumps(failure, ensure_ascii=False) + "\n")
        self.data["shards"][record["name"]] = record
        self.data["seconds"] = round(self.data["seconds"] + seconds, 1)
        self.save()

    def totals(self) -> dict:
        splits: dict[str, dict[str, int]] = {}
        for name, record in self.data["shards"].items():
            split = splits.setdefault(
                name.split("/")[0], {"planned": 0, "rows": 0, "failed": 0}
            )
            for key in split:
                split[key] += record[key]
        return splits

    def save(self, complete: bool = False) -> None:
        splits = self.totals()
        planned = sum(s["planned"] for s in splits.values())
        seconds = self.data["seconds"]
        self.data.update(
            splits=splits,
            failed=sum(s["failed"] for s in splits.values()),
            failures_file=FAILURES,
            complete=complete,
            formulas_per_second=round(planned / seconds, 2) if seconds else None,
        )
        temporary = self.path.with_name(f".{MANIFEST}.tmp")
        temporary.write_text(
            json.dumps(self.data, indent=1, ensure_ascii=False), encoding="utf-8"
        )
        temporary.replace(self.path)
