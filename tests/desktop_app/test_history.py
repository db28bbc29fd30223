"""SQLite history: search, trim, re-copy data, durability against a kill."""

import signal
import subprocess
import sys
import textwrap

import pytest

from desktop_app.history import History


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
