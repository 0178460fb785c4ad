"""A SQLite store that several processes use at once.

MLflow's SQLAlchemy store waits up to 20 s for a lock (``PRAGMA busy_timeout`` on every
session), but in SQLite's default rollback-journal mode a reader blocks every writer, and a
transaction that read before it writes fails at once ("database is locked") when another
writer is ahead of it: waiting would deadlock. :func:`prepare` puts the database in
write-ahead-log mode once (the mode is stored in the file): readers and the one writer no
longer block each other, and writers queue behind the busy timeout. It also creates a new
store's tables under a file lock, since MLflow's tracking store creates them without one and
two processes opening a new store at once would both try.

WAL needs a local file system (not NFS or SMB): keep the store on a local disk.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import sqlite3
from pathlib import Path

log = logging.getLogger(__name__)

CONNECT_TIMEOUT_S = 60.0  # how long our own connections wait for a lock


def journal_mode(db: Path) -> str:
    with contextlib.closing(sqlite3.connect(db, timeout=CONNECT_TIMEOUT_S)) as conn:
        return conn.execute("PRAGMA journal_mode").fetchone()[0]


def _has_tables(db: Path) -> bool:
    with contextlib.closing(sqlite3.connect(db, timeout=CONNECT_TIMEOUT_S)) as conn:
        found = conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'experiments'"
        ).fetchone()
    return found is not None


@contextlib.contextmanager
def _creation_lock(db: Path):
    with open(db.with_name(db.name + ".create.lock"), "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def prepare(db: Path, uri: str, artifacts: str | None) -> None:
    """The database at ``db`` in WAL mode, with MLflow's tables (created by one process only)."""
    db.parent.mkdir(parents=True, exist_ok=True)
    if db.exists() and _has_tables(db) and journal_mode(db) == "wal":
        return
    with _creation_lock(db):
        if journal_mode(db) != "wal":
            with contextlib.closing(sqlite3.connect(db, timeout=CONNECT_TIMEOUT_S)) as conn:
                mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
            if mode == "wal":
                log.debug("store %s: write-ahead log on, for concurrent commands", db)
            else:
                log.warning("store %s: journal mode stays %s (WAL refused)", db, mode)
        if not _has_tables(db):
            from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

            # Creating the store object creates (and migrates) its tables.
            SqlAlchemyStore(uri, artifacts)
            log.debug("created MLflow store %s", db)
