"""Run history: one SQLite row per run of a schedule (``history.sqlite`` in the state folder).

Every write is one transaction. ``forecast schedule list`` shows the last row of each
schedule, ``forecast schedule history`` the last rows of one or all; a row left ``running`` by a process that is gone becomes ``interrupted``.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from forecasting.files import pid_alive
from forecasting.serving.schedule.state import HISTORY_DB


@dataclass
class Outcome:
    name: str
    status: str  # running, ok, drift (an evaluation raised the alarm), failed, missed, interrupted
    scheduled_for: str | None
    started_at: str
    finished_at: str | None = None
    output: str | None = None
    error: str | None = None
    mlflow_run_id: str | None = None

    @property
    def duration(self) -> float | None:
        """Seconds from start to finish; None while running or for a run that never started."""
        if self.finished_at is None or self.status == "missed":
            return None
        started = datetime.fromisoformat(self.started_at)
        return (datetime.fromisoformat(self.finished_at) - started).total_seconds()

    @property
    def detail(self) -> str | None:
        """The error of a run that failed, else what it did (a drift alarm is not an error)."""
        return self.error or self.output

    def describe(self) -> str:
        when = (self.finished_at or self.started_at)[:19].replace("T", " ")
        return f"{when} UTC {self.status}" + (f": {self.detail}" if self.detail else "")


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _when(outcome: Outcome) -> datetime:
    """The slot an outcome belongs to: its scheduled time, else when it started (aware)."""
    moment = datetime.fromisoformat(outcome.scheduled_for or outcome.started_at)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class RunHistory:
    """One SQLite row per run of a schedule (transactions make every write atomic)."""

    COLUMNS = (
        "name",
        "status",
        "scheduled_for",
        "started_at",
        "finished_at",
        "output",
        "error",
        "mlflow_run_id",
    )

    def __init__(self, folder: Path):
        self.path = Path(folder) / HISTORY_DB
        with self._connect() as db:
            db.execute(
                "CREATE TABLE IF NOT EXISTS runs (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, "
                "status TEXT NOT NULL, scheduled_for TEXT, started_at TEXT NOT NULL, finished_at TEXT, "
                "output TEXT, error TEXT, mlflow_run_id TEXT, pid INTEGER)"
            )
            db.execute("CREATE INDEX IF NOT EXISTS runs_by_name ON runs (name, id)")

    @contextlib.contextmanager
    def _connect(self):
        self.path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self.path, timeout=30)
        try:
            with db:  # one transaction: committed on success, rolled back on error
                yield db
        finally:
            db.close()

    def start(self, name: str, scheduled_for: datetime | None) -> int:
        with self._connect() as db:
            cur = db.execute(
                "INSERT INTO runs (name, status, scheduled_for, started_at, pid) VALUES (?, 'running', ?, ?, ?)",
                (name, scheduled_for.isoformat() if scheduled_for else None, _now(), os.getpid()),
            )
            return int(cur.lastrowid)

    def finish(
        self,
        row: int,
        status: str,
        output: str | None = None,
        error: str | None = None,
        mlflow_run_id: str | None = None,
    ) -> None:
        with self._connect() as db:
            db.execute(
                "UPDATE runs SET status = ?, finished_at = ?, output = ?, error = ?, mlflow_run_id = ? WHERE id = ?",
                (status, _now(), output, error, mlflow_run_id, row),
            )

    def record(
        self, name: str, status: str, scheduled_for: datetime | None, error: str | None = None
    ) -> None:
        """A run that did not start (missed its grace time, or skipped)."""
        row = self.start(name, scheduled_for)
        self.finish(row, status, error=error)

    def get(self, row: int) -> Outcome:
        with self._connect() as db:
            found = db.execute(
                f"SELECT {', '.join(self.COLUMNS)} FROM runs WHERE id = ?", (row,)
            ).fetchone()
        return Outcome(*found)

    def last(self, name: str) -> Outcome | None:
        """The latest slot's outcome among the runs that started (by scheduled time, else start
        time), so a missed slot recorded late does not hide a run; a schedule whose slots were
        all missed shows its latest missed one. :meth:`missed_since` counts what came after."""
        rows = self._latest_rows(name)
        started = [r for r in rows if r[1].status != "missed"]
        chosen = max(started or rows, key=lambda r: (_when(r[1]), r[0]), default=None)
        return chosen[1] if chosen else None

    def missed_since(self, outcome: Outcome) -> int:
        """How many slots of ``outcome``'s schedule after it were missed."""
        after = _when(outcome)
        return sum(
            1
            for _, o in self._latest_rows(outcome.name)
            if o.status == "missed" and _when(o) > after
        )

    def _latest_rows(self, name: str, limit: int = 2000) -> list[tuple[int, Outcome]]:
        with self._connect() as db:
            rows = db.execute(
                f"SELECT id, {', '.join(self.COLUMNS)} FROM runs WHERE name = ? "
                "ORDER BY id DESC LIMIT ?",
                (name, limit),
            ).fetchall()
        return [(r[0], Outcome(*r[1:])) for r in rows]

    def runs(self, name: str) -> list[Outcome]:
        with self._connect() as db:
            rows = db.execute(
                f"SELECT {', '.join(self.COLUMNS)} FROM runs WHERE name = ? ORDER BY id", (name,)
            )
            return [Outcome(*r) for r in rows.fetchall()]

    def recent(self, name: str | None = None, limit: int = 20) -> list[Outcome]:
        """The last ``limit`` runs, of schedule ``name`` or of all, newest first."""
        where, args = ("WHERE name = ?", (name,)) if name is not None else ("", ())
        with self._connect() as db:
            rows = db.execute(
                f"SELECT {', '.join(self.COLUMNS)} FROM runs {where} ORDER BY id DESC LIMIT ?",
                (*args, limit),
            )
            return [Outcome(*r) for r in rows.fetchall()]

    def mark_interrupted(self) -> int:
        """Runs left 'running' by a process that is gone (killed, power cut) become 'interrupted'."""
        with self._connect() as db:
            stale = [
                (rid, pid)
                for rid, pid in db.execute("SELECT id, pid FROM runs WHERE status = 'running'")
            ]
            dead = [rid for rid, pid in stale if pid is None or not pid_alive(pid)]
            db.executemany(
                "UPDATE runs SET status = 'interrupted', finished_at = ?, error = 'process ended during the run' "
                "WHERE id = ?",
                [(_now(), rid) for rid in dead],
            )
        return len(dead)
