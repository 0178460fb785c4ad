"""The run history of schedules (history.sqlite)."""

from __future__ import annotations

import sqlite3

from forecasting.serving.schedule.history import RunHistory


def test_runs_left_running_by_a_dead_process_become_interrupted(tmp_path):
    history = RunHistory(tmp_path)
    row = history.start("daily", None)
    with sqlite3.connect(history.path) as db:
        db.execute("UPDATE runs SET pid = 2147483646 WHERE id = ?", (row,))  # no such process
    mine = history.start("hourly", None)  # this process is alive: left alone
    assert history.mark_interrupted() == 1
    assert history.last("daily").status == "interrupted"
    assert history.last("hourly").status == "running"
    history.finish(mine, "ok", output="x.csv")
    assert history.last("hourly").describe().endswith("ok: x.csv")
