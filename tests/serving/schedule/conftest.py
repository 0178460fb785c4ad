"""Helpers for the schedule tests: what the job store file really holds."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from forecasting.serving.schedule.state import JOBS_DB


@pytest.fixture
def job_ids():
    """``job_ids(state)``: the ids of the jobs stored in the state folder, sorted."""

    def read(state: Path) -> list[str]:
        with sqlite3.connect(state / JOBS_DB) as db:
            return sorted(row[0] for row in db.execute("SELECT id FROM apscheduler_jobs"))

    return read
