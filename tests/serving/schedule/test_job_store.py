"""The job store: schedules added, replaced, listed and removed without ever running a job."""

from __future__ import annotations

import pickle
import sqlite3
import time
from pathlib import Path

import pytest

from forecasting.cli import main
from forecasting.errors import InputError
from forecasting.serving.schedule import store
from forecasting.serving.schedule.state import JOBS_DB


def _next_run_times(state: Path) -> dict[str, float]:
    with sqlite3.connect(state / JOBS_DB) as db:
        return dict(db.execute("SELECT id, next_run_time FROM apscheduler_jobs"))


def _add(served_model, state, name="daily", cron="0 6 * * *", output=None, **kw):
    return store.add_schedule(
        name,
        cron,
        served_model.champion,
        served_model.data_csv,
        output or str(state.parent / "out" / "{as_of:%Y%m%d}.csv"),
        tracking_uri=served_model.tracking_uri,
        folder=state,
        **kw,
    )


def test_add_replace_list_remove(served_model, tmp_path, job_ids):
    state = tmp_path / "state"
    schedule, replaced = _add(served_model, state)
    assert not replaced and schedule.next_run.hour == 6 and schedule.misfire_grace_time == 300
    schedule, replaced = _add(served_model, state, cron="0 7 * * *", timezone="Asia/Tokyo")
    assert replaced and job_ids(state) == ["daily"]  # replaced, never duplicated
    _add(served_model, state, name="hourly", cron="0 * * * *", misfire_grace_time=60)

    listed = {s.name: s for s in store.list_schedules(state)}
    assert sorted(listed) == ["daily", "hourly"]
    assert (listed["daily"].cron, listed["daily"].timezone) == ("0 7 * * *", "Asia/Tokyo")
    assert listed["daily"].next_run.utcoffset().total_seconds() == 9 * 3600
    assert listed["hourly"].misfire_grace_time == 60 and listed["hourly"].last is None

    store.remove_schedule("daily", state)
    assert job_ids(state) == ["hourly"]
    with pytest.raises(InputError, match=r"no schedule named 'daily' .* \(schedules: hourly\)"):
        store.remove_schedule("daily", state)


def test_reading_the_store_never_moves_a_due_run(served_model, tmp_path):
    state = tmp_path / "state"
    _add(served_model, state, name="every-second", cron="* * * * * *")
    before = _next_run_times(state)
    time.sleep(2.2)  # the job is now overdue; only a running scheduler may act on that
    store.list_schedules(state)
    store.get_schedule("every-second", state)
    _add(served_model, state, name="other")
    assert _next_run_times(state)["every-second"] == before["every-second"]


def test_a_schedule_stored_by_an_earlier_version_is_kept(served_model, tmp_path, job_ids):
    """Jobs stored before the scheduler became a package name its old module; APScheduler would delete them."""
    state = tmp_path / "state"
    _add(served_model, state, name="old")
    with sqlite3.connect(state / JOBS_DB) as db:
        (blob,) = db.execute("SELECT job_state FROM apscheduler_jobs WHERE id = 'old'").fetchone()
        job = pickle.loads(blob)
        assert job["func"] == store.JOB_FUNCTION
        job["func"] = "forecasting.serving.scheduler:run_job"  # as 0.x wrote it
        db.execute(
            "UPDATE apscheduler_jobs SET job_state = ? WHERE id = 'old'", (pickle.dumps(job),)
        )

    assert [s.name for s in store.list_schedules(state)] == ["old"]
    assert job_ids(state) == ["old"]
    with sqlite3.connect(state / JOBS_DB) as db:
        (blob,) = db.execute("SELECT job_state FROM apscheduler_jobs WHERE id = 'old'").fetchone()
    assert pickle.loads(blob)["func"] == store.JOB_FUNCTION


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["add", "x", "--cron", "0 25 * * *"], "--cron '0 25 * * *'"),
        (
            ["add", "x", "--cron", "0 6 * * *", "--model", "models:/tiny-forecaster@gone"],
            "has no alias 'gone'",
        ),
        (["add", "x", "--cron", "0 6 * * *", "--timezone", "Mars/Olympus"], "unknown time zone"),
        (["add", "x y", "--cron", "0 6 * * *"], "schedule name 'x y'"),
        (
            ["add", "x", "--cron", "0 6 * * *", "--misfire-grace-time", "0"],
            "--misfire-grace-time must be a positive number",
        ),
        (["remove", "nope"], "no schedule named 'nope'"),
        (["run", "nope"], "no schedule named 'nope'"),
    ],
)
def test_cli_rejects_bad_schedules_with_one_line(
    served_model, tmp_path, capsys, job_ids, args, expected
):
    state = tmp_path / "state"
    if args[0] == "add":
        args = [
            *args,
            "--data",
            str(served_model.data_csv),
            "--output",
            str(tmp_path / "o.csv"),
            "--tracking-uri",
            served_model.tracking_uri,
        ]
        if "--model" not in args:
            args += ["--model", served_model.champion]
    code = main(["schedule", *args, "--state-dir", str(state)])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("error: ") and expected in err and len(err.strip().splitlines()) == 1
    assert not (state / JOBS_DB).exists() or job_ids(state) == []
