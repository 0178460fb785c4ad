"""The scheduler's state folder and the files in it."""

from __future__ import annotations

import os
from pathlib import Path

STATE_ENV = "FORECAST_STATE_DIR"
DEFAULT_STATE_DIR = ".forecast"
JOBS_DB = "schedules.sqlite"  # APScheduler's SQLAlchemyJobStore: one job per schedule
HISTORY_DB = "history.sqlite"  # one row per run
LOG_FILE = "scheduler.log"  # what the `forecast scheduler` process did
LOCK_FILE = "scheduler.lock"  # held by the running scheduler


def state_dir(path: str | Path | None = None) -> Path:
    """The state folder: ``path``, else ``$FORECAST_STATE_DIR``, else ``./.forecast``."""
    return Path(path or os.environ.get(STATE_ENV) or DEFAULT_STATE_DIR).expanduser().resolve()
