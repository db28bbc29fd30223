"""Recognition history in SQLite under the user's data directory.

Every ``add`` is its own committed transaction in WAL mode with synchronous=FULL, so a
crash or kill right after a result never loses that entry. Writes are a few
milliseconds, which is acceptable on the GUI thread.

The schema grows by ``MIGRATIONS`` (ALTER TABLE ... ADD COLUMN, keyed by
``PRAGMA user_version``), so a database from an older SnapTeX keeps every entry.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QStandardPaths

logger = logging.getLogger(__name__)

COLUMNS = (
    "id, created, latex, latex_raw, confidence, model, thumbnail,"
    " needs_check, check_reason"
)
SCHEMA = """
CREATE TABLE IF NOT EXISTS entries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created REAL NOT NULL,
    latex TEXT NOT NULL,
    latex_raw TEXT NOT NULL DEFAULT '',
    confidence REAL,
    model TEXT NOT NULL DEFAULT '',
    thumbnail BLOB
);
CREATE INDEX IF NOT EXISTS entries_created ON entries(created);
"""
# Schema version n+1 is reached by MIGRATIONS[n]; version 0 is the table above.
MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        # NULL: stored before the self-check existed (not known), 0/1 otherwise.
        "ALTER TABLE entries ADD COLUMN needs_check INTEGER",
        "ALTER TABLE entries ADD COLUMN check_reason TEXT",
    ),
)
SCHEMA_VERSION = len(MIGRATIONS)


@dataclass(frozen=True)
class Entry:
    id: int
    created: float
    latex: str
    latex_raw: str
    confidence: float | None
    model: str
    thumbnail: bytes | None
    needs_check: bool | None = None
    check_reason: str | None = None

    @classmethod
    def from_row(cls, row: tuple) -> Entry:
        *head, needs_check, check_reason = row
        return cls(
            *head, None if needs_check is None else bool(needs_check), check_reason
        )


def default_path() -> Path:
    """history.sqlite3 in QStandardPaths' AppDataLocation (needs the app name set)."""
    folder = QStandardPaths.writableLocation(
        QStandardPaths.StandardLocation.AppDataLocation
    )
    return Path(folder) / "history.sqlite3"


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class History:
    def __init__(self, path: Path, max_entries: int = 500):
        if str(path) != ":memory:":
            path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.max_entries = max_entries
        # isolation_level=None: we commit explicitly, one entry per transaction.
        self._db = sqlite3.connect(str(path), isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(SCHEMA)
        self._migrate()

    def _migrate(self) -> None:
        version = int(self._db.execute("PRAGMA user_version").fetchone()[0])
        for number in range(version, SCHEMA_VERSION):
            with self._transaction():
                for statement in MIGRATIONS[number]:
                    self._db.execute(statement)
                self._db.execute(f"PRAGMA user_version = {number + 1}")
            logger.info("history schema %d -> %d", number, number + 1)

    def add(
        self,
        latex: str,
        latex_raw: str = "",
        confidence: float | None = None,
        model: str = "",
        thumbnail: bytes | None = None,
        created: float | None = None,
        needs_check: bool | None = None,
        check_reason: str | None = None,
    ) -> int | None:
        """Store one result (committed before returning); None when history is off."""
        if self.max_entries <= 0:
            return None
        with self._transaction():
            cursor = self._db.execute(
                "INSERT INTO entries (created, latex, latex_raw, confidence, model,"
                " thumbnail, needs_check, check_reason)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    time.time() if created is None else created,
                    latex,
                    latex_raw,
                    confidence,
                    model,
                    thumbnail,
                    None if needs_check is None else int(needs_check),
                    check_reason,
                ),
            )
            self._trim()
        return int(cursor.lastrowid)

    def update_check(
        self,
        entry_id: int,
        needs_check: bool,
        check_reason: str | None,
        confidence: float | None = None,
    ) -> None:
        """A late self-check of a stored result (the confidence only if it has one)."""
        with self._transaction():
            self._db.execute(
                "UPDATE entries SET needs_check = ?, check_reason = ?,"
                " confidence = COALESCE(?, confidence) WHERE id = ?",
                (int(needs_check), check_reason, confidence, entry_id),
            )

    def _transaction(self):
        db = self._db

        class _Tx:
            def __enter__(self):
                db.execute("BEGIN IMMEDIATE")

            def __exit__(self, exc_type, *_):
                db.execute("ROLLBACK" if exc_type else "COMMIT")

        return _Tx()

    def _trim(self) -> None:
        self._db.execute(
            "DELETE FROM entries WHERE id NOT IN"
            " (SELECT id FROM entries ORDER BY created DESC, id DESC LIMIT ?)",
            (max(self.max_entries, 0),),
        )

    def set_max_entries(self, max_entries: int) -> None:
        self.max_entries = max_entries
        with self._transaction():
            self._trim()

    def search(self, query: str = "", limit: int = 200) -> list[Entry]:
        """Newest first; ``query`` matches LaTeX or model name, case-insensitively."""
        pattern = f"%{_escape_like(query.strip())}%"
        rows = self._db.execute(
            f"SELECT {COLUMNS} FROM entries"
            " WHERE latex LIKE ? ESCAPE '\\' OR model LIKE ? ESCAPE '\\'"
            " ORDER BY created DESC, id DESC LIMIT ?",
            (pattern, pattern, limit),
        )
        return [Entry.from_row(row) for row in rows]

    def get(self, entry_id: int) -> Entry | None:
        row = self._db.execute(
            f"SELECT {COLUMNS} FROM entries WHERE id = ?",
            (entry_id,),
        ).fetchone()
        return Entry.from_row(row) if row else None

    def delete(self, entry_id: int) -> None:
        with self._transaction():
            self._db.execute("DELETE FROM entries WHERE id = ?", (entry_id,))

    def clear(self) -> None:
        with self._transaction():
            self._db.execute("DELETE FROM entries")

    def count(self) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM entries").fetchone()[0])

    def close(self) -> None:
        self._db.close()
