"""Schedules: cron parsing, a persistent job store, run history and the real scheduler process."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import mlflow
import pandas as pd
import pytest

from forecasting.cli import main
from forecasting.errors import InputError
from forecasting.serving import scheduler as sched
from forecasting.serving.batch import EXPERIMENT


def _job_ids(state: Path) -> list[str]:
    with sqlite3.connect(state / sched.JOBS_DB) as db:
        return sorted(row[0] for row in db.execute("SELECT id FROM apscheduler_jobs"))


def _next_run_times(state: Path) -> dict[str, float]:
    with sqlite3.connect(state / sched.JOBS_DB) as db:
        return dict(db.execute("SELECT id, next_run_time FROM apscheduler_jobs"))


# --- cron ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("field", "expected"), [
    ("*", "*"),
    ("0", "sun"),
    ("7", "sun"),
    ("1-5", "mon,tue,wed,thu,fri"),
    ("mon-fri", "mon,tue,wed,thu,fri"),
    ("*/2", "sun,tue,thu,sat"),
    ("5-7", "sun,fri,sat"),
    ("sat,sun", "sun,sat"),
])
def test_crontab_weekday_numbers_mean_what_crontab_says(field, expected):
    assert sched.crontab_weekdays(field) == expected


def test_cron_is_utc_unless_a_time_zone_is_given():
    start = datetime(2024, 1, 1, tzinfo=UTC)  # a Monday
    sunday = sched.parse_cron("30 7 * * 0").get_next_fire_time(None, start)
    assert sunday == datetime(2024, 1, 7, 7, 30, tzinfo=UTC)
    berlin = sched.parse_cron("0 6 * * *", "Europe/Berlin").get_next_fire_time(None, start)
    assert berlin == datetime(2024, 1, 1, 6, 0, tzinfo=ZoneInfo("Europe/Berlin"))
    assert berlin.astimezone(UTC).hour == 5
    seconds = sched.parse_cron("*/20 * * * * *").get_next_fire_time(None, datetime(2024, 1, 1, 0, 0, 1, tzinfo=UTC))
    assert seconds == datetime(2024, 1, 1, 0, 0, 20, tzinfo=UTC)


@pytest.mark.parametrize(("expr", "expected"), [
    ("61 * * * *", "higher than the maximum value (59)"),
    ("* * *", "expected 5 fields"),
    ("0 0 30 2 *", "never fires"),
    ("0 0 * * 9", "weekday '9' is not 0-7"),
    ("", "expected 5 fields"),
])
def test_bad_cron_is_an_input_error(expr, expected):
    with pytest.raises(InputError, match=expected.replace("(", r"\(").replace(")", r"\)")):
        sched.parse_cron(expr)


def test_a_run_is_as_of_the_fire_time_it_was_scheduled_for():
    trigger = sched.parse_cron("*/10 * * * * *")
    late = datetime(2024, 1, 1, 12, 0, 7, 500_000, tzinfo=UTC)
    assert sched.nominal_run_time(trigger, late, 300) == datetime(2024, 1, 1, 12, 0, 0, tzinfo=UTC)
    hourly = sched.parse_cron("0 * * * *")
    assert sched.nominal_run_time(hourly, late, 60) == datetime(2024, 1, 1, 12, 0, 0, tzinfo=UTC)
    much_later = datetime(2024, 1, 1, 12, 5, 7, 500_000, tzinfo=UTC)  # no fire time within the grace time
    assert sched.nominal_run_time(hourly, much_later, 60) == datetime(2024, 1, 1, 12, 5, 7, tzinfo=UTC)


def test_output_templates():
    as_of = datetime(2024, 1, 31, 23, 0, tzinfo=UTC)
    assert sched.render_output("out/{name}/{as_of:%Y%m%d%H}.parquet", as_of, "daily") == Path(
        "out/daily/2024013123.parquet")
    with pytest.raises(InputError, match="unknown field {when}"):
        sched.check_template("out/{when}.csv")
    with pytest.raises(InputError, match="unsupported output type"):
        sched.check_template("out/{as_of:%Y}.txt")


def test_state_dir_flag_then_environment_then_default(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(sched.STATE_ENV, raising=False)
    assert sched.state_dir() == tmp_path / ".forecast"
    monkeypatch.setenv(sched.STATE_ENV, str(tmp_path / "from-env"))
    assert sched.state_dir() == tmp_path / "from-env"
    assert sched.state_dir(tmp_path / "flag") == tmp_path / "flag"


# --- the job store -------------------------------------------------------------------------------


def _add(served_model, state, name="daily", cron="0 6 * * *", output=None, **kw):
    return sched.add_schedule(name, cron, served_model.champion, served_model.data_csv,
                              output or str(state.parent / "out" / "{as_of:%Y%m%d}.csv"),
                              tracking_uri=served_model.tracking_uri, folder=state, **kw)


def test_add_replace_list_remove(served_model, tmp_path):
    state = tmp_path / "state"
    schedule, replaced = _add(served_model, state)
    assert not replaced and schedule.next_run.hour == 6 and schedule.misfire_grace_time == 300
    schedule, replaced = _add(served_model, state, cron="0 7 * * *", timezone="Asia/Tokyo")
    assert replaced and _job_ids(state) == ["daily"]  # replaced, never duplicated
    _add(served_model, state, name="hourly", cron="0 * * * *", misfire_grace_time=60)

    listed = {s.name: s for s in sched.list_schedules(state)}
    assert sorted(listed) == ["daily", "hourly"]
    assert (listed["daily"].cron, listed["daily"].timezone) == ("0 7 * * *", "Asia/Tokyo")
    assert listed["daily"].next_run.utcoffset().total_seconds() == 9 * 3600
    assert listed["hourly"].misfire_grace_time == 60 and listed["hourly"].last is None

    sched.remove_schedule("daily", state)
    assert _job_ids(state) == ["hourly"]
    with pytest.raises(InputError, match=r"no schedule named 'daily' .* \(schedules: hourly\)"):
        sched.remove_schedule("daily", state)


def test_reading_the_store_never_moves_a_due_run(served_model, tmp_path):
    state = tmp_path / "state"
    _add(served_model, state, name="every-second", cron="* * * * * *")
    before = _next_run_times(state)
    time.sleep(2.2)  # the job is now overdue; only a running scheduler may act on that
    sched.list_schedules(state)
    sched.get_schedule("every-second", state)
    _add(served_model, state, name="other")
    assert _next_run_times(state)["every-second"] == before["every-second"]


@pytest.mark.parametrize(("args", "expected"), [
    (["add", "x", "--cron", "0 25 * * *"], "--cron '0 25 * * *'"),
    (["add", "x", "--cron", "0 6 * * *", "--model", "models:/tiny-forecaster@gone"], "has no alias 'gone'"),
    (["add", "x", "--cron", "0 6 * * *", "--timezone", "Mars/Olympus"], "unknown time zone"),
    (["add", "x y", "--cron", "0 6 * * *"], "schedule name 'x y'"),
    (["add", "x", "--cron", "0 6 * * *", "--misfire-grace-time", "0"], "--misfire-grace-time must be a positive number"),
    (["remove", "nope"], "no schedule named 'nope'"),
    (["run", "nope"], "no schedule named 'nope'"),
])
def test_cli_rejects_bad_schedules_with_one_line(served_model, tmp_path, capsys, args, expected):
    state = tmp_path / "state"
    if args[0] == "add":
        args = [*args, "--data", str(served_model.data_csv), "--output", str(tmp_path / "o.csv"),
                "--tracking-uri", served_model.tracking_uri]
        if "--model" not in args:
            args += ["--model", served_model.champion]
    code = main(["schedule", *args, "--state-dir", str(state)])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("error: ") and expected in err and len(err.strip().splitlines()) == 1
    assert not (state / sched.JOBS_DB).exists() or _job_ids(state) == []


def test_runs_left_running_by_a_dead_process_become_interrupted(tmp_path):
    history = sched.RunHistory(tmp_path)
    row = history.start("daily", None)
    with sqlite3.connect(history.path) as db:
        db.execute("UPDATE runs SET pid = 2147483646 WHERE id = ?", (row,))  # no such process
    mine = history.start("hourly", None)  # this process is alive: left alone
    assert history.mark_interrupted() == 1
    assert history.last("daily").status == "interrupted"
    assert history.last("hourly").status == "running"
    history.finish(mine, "ok", output="x.csv")
    assert history.last("hourly").describe().endswith("ok: x.csv")


# --- the scheduler process -----------------------------------------------------------------------


def _start_scheduler(served_model, state: Path, cwd: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "forecasting", "scheduler", "--state-dir", str(state), "--poll-seconds", "0.5"],
        cwd=cwd, env=served_model.env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def _wait_for(condition, timeout: float, what: str, proc: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        if proc is not None and proc.poll() is not None:
            pytest.fail(f"scheduler exited with {proc.returncode} while waiting for {what}: {proc.stderr.read()}")
        time.sleep(0.25)
    pytest.fail(f"timed out waiting for {what}")


def _stop(proc: subprocess.Popen) -> tuple[int, str]:
    proc.send_signal(signal.SIGTERM)
    try:
        _, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    return proc.returncode, err


def _log_has(state: Path, text: str, count: int = 1) -> bool:
    log = state / sched.LOG_FILE
    return log.exists() and log.read_text().count(text) >= count


def test_scheduler_survives_a_restart_and_a_failing_job_does_not_stop_another(served_model, tmp_path):
    state, out = tmp_path / "state", tmp_path / "forecasts"
    broken_data = tmp_path / "no-target.csv"
    served_model.frame.drop(columns=["y"]).to_csv(broken_data, index=False)
    common = ["--cron", "*/2 * * * * *", "--model", served_model.champion, "--tracking-uri",
              served_model.tracking_uri, "--state-dir", str(state)]
    assert main(["schedule", "add", "good", *common, "--data", str(served_model.data_csv),
                 "--output", str(out / "good-{as_of:%H%M%S}.csv")]) == 0
    assert main(["schedule", "add", "broken", *common, "--data", str(broken_data),
                 "--output", str(out / "broken-{as_of:%H%M%S}.csv")]) == 0

    first = _start_scheduler(served_model, state, tmp_path)
    _wait_for(lambda: _log_has(state, "scheduler started"), 60, "the first start", first)
    code, err = _stop(first)
    assert code == 0, err
    assert "SIGTERM received" in err and "scheduler stopped" in err
    assert _job_ids(state) == ["broken", "good"]

    second = _start_scheduler(served_model, state, tmp_path)
    history = sched.RunHistory(state)

    def good_ran_after_broken_failed() -> bool:
        broken = [r for r in history.runs("broken") if r.status == "failed"]
        return bool(broken) and any(r.status == "ok" and r.started_at >= broken[0].finished_at
                                    for r in history.runs("good"))

    _wait_for(good_ran_after_broken_failed, 90, "a good run after a failed one", second)
    rival = subprocess.run([sys.executable, "-m", "forecasting", "scheduler", "--state-dir", str(state)],
                           env=served_model.env(), capture_output=True, text=True, timeout=120)
    assert rival.returncode == 2
    assert rival.stderr.strip() == f"error: {state}: another forecast scheduler is running (pid {second.pid})"
    code, err = _stop(second)
    assert code == 0, err
    assert _job_ids(state) == ["broken", "good"]  # still exactly once each after two starts
    assert _log_has(state, "scheduler started", 2)
    assert "schedule 'broken' failed: " in err and "missing target column 'y'" in err

    ok = [r for r in history.runs("good") if r.status == "ok"]
    written = Path(ok[-1].output)
    assert written.parent == out and written.name.startswith("good-")
    forecast = pd.read_csv(written)
    assert len(forecast) == 12 and list(forecast.columns) == ["unique_id", "ds", "y_hat"]
    assert Path(f"{written}.lineage.json").exists()
    assert not list(out.glob("broken-*")) and not list(out.glob(".*.tmp"))

    listing = subprocess.run([sys.executable, "-m", "forecasting", "schedule", "list", "--state-dir", str(state)],
                             env=served_model.env(), capture_output=True, text=True, timeout=60)
    lines = {line.split()[0]: line for line in listing.stdout.splitlines()[1:]}
    assert " failed: " in lines["broken"] and "missing target column 'y'" in lines["broken"]
    assert " ok: " in lines["good"]

    client = mlflow.MlflowClient(tracking_uri=served_model.tracking_uri)
    experiment = client.get_experiment_by_name(EXPERIMENT)
    failed = client.search_runs([experiment.experiment_id], "tags.schedule = 'broken'")
    assert failed and all(r.info.status == "FAILED" for r in failed)
    assert "missing target column 'y'" in failed[0].data.tags["failure_reason"]
    finished = client.search_runs([experiment.experiment_id], "tags.schedule = 'good'")
    assert any(r.info.status == "FINISHED" for r in finished)


def test_run_once_now(served_model, tmp_path, capsys):
    state = tmp_path / "state"
    _add(served_model, state, name="nightly", output=str(tmp_path / "out" / "{name}-{as_of:%Y%m%d}.parquet"))
    before = datetime.now(UTC).replace(microsecond=0)
    assert main(["schedule", "run", "nightly", "--state-dir", str(state)]) == 0
    after = datetime.now(UTC)
    outcome = sched.RunHistory(state).last("nightly")
    assert outcome.status == "ok" and outcome.mlflow_run_id
    # The output is named by the run's own as-of time (now, when it ran), not by today's date
    # when the test checks: the two differ for a run that straddles UTC midnight.
    as_of = datetime.fromisoformat(json.loads(Path(f"{outcome.output}.lineage.json").read_text())["as_of"])
    assert before <= as_of <= after
    assert Path(outcome.output) == tmp_path / "out" / f"nightly-{as_of:%Y%m%d}.parquet"
    assert len(pd.read_parquet(outcome.output)) == 12
    assert "schedule 'nightly': " in capsys.readouterr().out and " ok: " in outcome.describe()
