"""SQLite transactions: writers serialise up front, readers never wait for a writer."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import text

from sop_shared.db import make_engine, read_only


@pytest.fixture
def sqlite_file(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    with make_engine(url).begin() as conn:
        conn.execute(text("CREATE TABLE t (x INTEGER)"))
        conn.execute(text("INSERT INTO t VALUES (1)"))
    return url


def test_a_reader_is_not_blocked_by_a_long_write(sqlite_file: str) -> None:
    """A GET during a long write (e.g. a forecast run storing its lines) answers at once
    from the last committed snapshot. Checked that it can fail: with BEGIN IMMEDIATE for
    readers too, the read waits for the lock and raises "database is locked"."""
    engine = make_engine(sqlite_file)
    with engine.connect() as writer:
        writer.begin()
        writer.execute(text("INSERT INTO t VALUES (2)"))  # holds the write lock, uncommitted
        # a short busy timeout: without the deferred BEGIN this fails ("database is locked")
        with read_only(make_engine(sqlite_file)).connect() as conn:
            conn.exec_driver_sql("PRAGMA busy_timeout=200")
            conn.commit()
            with conn.begin():
                assert conn.execute(text("SELECT count(*) FROM t")).scalar_one() == 1
        writer.rollback()


def test_writers_take_the_lock_up_front(sqlite_file: str) -> None:
    """Two writers never both read then fail a lock upgrade: the second waits at BEGIN."""
    engine = make_engine(sqlite_file)
    with engine.connect() as first:
        first.begin()
        first.execute(text("SELECT 1"))
        other = sqlite3.connect(sqlite_file.split("///", 1)[1], timeout=0.1, isolation_level=None)
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            other.execute("BEGIN IMMEDIATE")
        other.close()
        first.rollback()
