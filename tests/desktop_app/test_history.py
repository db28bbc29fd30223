"""SQLite history: search, trim, re-copy data, durability against a kill."""

import signal
import sqlite3
import subprocess
import sys
import textwrap

import pytest

from desktop_app.history import SCHEMA_VERSION, History


@pytest.fixture
def history(tmp_path):
    store = History(tmp_path / "h.sqlite3", max_entries=3)
    yield store
    store.close()


def test_add_and_search_newest_first(history):
    history.add(r"\frac{a}{b}", model="m1", created=1.0)
    history.add(r"\sqrt{x}", model="m2", created=2.0, thumbnail=b"png", confidence=0.5)
    assert [e.latex for e in history.search()] == [r"\sqrt{x}", r"\frac{a}{b}"]
    (entry,) = history.search("sqrt")
    assert (entry.model, entry.thumbnail, entry.confidence) == ("m2", b"png", 0.5)
    assert [e.latex for e in history.search("M1")] == [
        r"\frac{a}{b}"
    ]  # model, any case


@pytest.mark.parametrize(("query", "hits"), [("%", 1), ("_", 1), ("a_b", 1), ("x", 0)])
def test_search_treats_wildcards_literally(history, query, hits):
    history.add("50% a_b")
    history.add("ab")
    assert len(history.search(query)) == hits


def test_trims_to_size_and_can_shrink(history):
    for n in range(5):
        history.add(f"x_{n}", created=float(n))
    assert [e.latex for e in history.search()] == ["x_4", "x_3", "x_2"]
    history.set_max_entries(1)
    assert history.count() == 1


def test_size_zero_keeps_nothing(tmp_path):
    store = History(tmp_path / "h.sqlite3", max_entries=0)
    assert store.add("x") is None
    assert store.count() == 0


def test_delete_and_clear(history):
    first = history.add("a")
    history.add("b")
    history.delete(first)
    assert [e.latex for e in history.search()] == ["b"]
    assert history.get(first) is None
    history.clear()
    assert history.count() == 0


def test_a_killed_process_keeps_committed_entries(tmp_path):
    # GIVEN a process that commits an entry and is then SIGKILLed mid-session
    path = tmp_path / "h.sqlite3"
    code = textwrap.dedent(f"""
        import os, signal
        from pathlib import Path
        from desktop_app.history import History
        store = History(Path({str(path)!r}), 10)
        store.add(r"\\int_0^1 x\\,dx", model="killed")
        os.kill(os.getpid(), signal.SIGKILL)
    """)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=60)
    # WHEN the app starts again THEN the entry is there
    assert done.returncode == -signal.SIGKILL
    store = History(path, 10)
    assert [e.model for e in store.search()] == ["killed"]
    store.close()
    assert path.exists()


OLD_SCHEMA = """
CREATE TABLE entries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created REAL NOT NULL,
    latex TEXT NOT NULL,
    latex_raw TEXT NOT NULL DEFAULT '',
    confidence REAL,
    model TEXT NOT NULL DEFAULT '',
    thumbnail BLOB
);
CREATE INDEX entries_created ON entries(created);
"""


def test_an_older_database_is_migrated_and_keeps_every_entry(tmp_path):
    path = tmp_path / "old.sqlite3"
    db = sqlite3.connect(path)
    db.executescript(OLD_SCHEMA)
    db.executemany(
        "INSERT INTO entries (created, latex, confidence, model, thumbnail)"
        " VALUES (?, ?, ?, ?, ?)",
        [(float(n), f"x_{n}", 0.5, "bundled", b"png") for n in range(30)],
    )
    db.commit()
    db.close()
    store = History(path, max_entries=500)
    entries = store.search(limit=100)
    assert len(entries) == 30 and entries[0].latex == "x_29"
    assert entries[-1].thumbnail == b"png" and entries[-1].confidence == 0.5
    assert all(e.needs_check is None and e.check_reason is None for e in entries)
    new = store.add("y", needs_check=True, check_reason="differs here")
    assert (store.get(new).needs_check, store.get(new).check_reason) == (True, "differs here")
    store.close()
    again = History(path)  # opening a migrated file again changes nothing
    assert again.count() == 31
    version = again._db.execute("PRAGMA user_version").fetchone()[0]
    assert version == SCHEMA_VERSION
    again.close()


def test_needs_check_is_stored_and_updated_by_a_late_check(history):
    plain = history.add("a", confidence=0.9)
    checked = history.add("b", confidence=0.9, needs_check=False, check_reason=None)
    assert history.get(plain).needs_check is None  # the worker said nothing
    assert history.get(checked).needs_check is False
    history.update_check(checked, True, "the rendered result differs", 0.3)
    entry = history.get(checked)
    assert (entry.needs_check, entry.check_reason, entry.confidence) == (
        True,
        "the rendered result differs",
        0.3,
    )
    history.update_check(plain, False, None)  # no confidence: the old one stays
    assert history.get(plain).needs_check is False and history.get(plain).confidence == 0.9
