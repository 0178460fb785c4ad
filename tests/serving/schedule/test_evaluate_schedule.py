"""Evaluate schedules: stored in the same job store as predictions and retrains, run by the
scheduler as a `forecast evaluate` child process from its background executor; the history row
says ok, drift (with the alarm line) or failed (with the one-line error).

Real forecasts of the session's tiny registered model (`forecast predict --as-of`), a copy of
its SQLite store per test (the monitoring runs a test writes reach no other test), a real
APScheduler SQLite job store; the job function is called with an explicit slot, no sleeping.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest

from forecasting.cli import main
from forecasting.exit_status import ExitStatus
from forecasting.serving.schedule import RunHistory, list_schedules, run_evaluate_job, serve
from forecasting.serving.schedule.store import (
    EVALUATE,
    EVALUATE_FUNCTION,
    RETRAIN_EXECUTOR,
    store_editor,
)

YEARLY = "0 0 1 1 *"  # never due by itself during a test
SLOT = datetime(2026, 1, 1, tzinfo=UTC)
H = 6  # the served model's horizon
SHIFT = 40.0  # many times the noise (1) and the daily cycle (5)


def _copy_store(source_uri: str, folder: Path) -> str:
    folder.mkdir(parents=True, exist_ok=True)
    source = sqlite3.connect(source_uri.removeprefix("sqlite:///"))
    target = sqlite3.connect(folder / "mlflow.db")
    with target:
        source.backup(target)
    source.close()
    target.close()
    return f"sqlite:///{folder / 'mlflow.db'}"


@pytest.fixture(scope="module")
def forecasts(served_model, tmp_path_factory):
    """Four forecasts, one horizon apart, and the last as-of time: by then three are complete
    (the default minimum for a verdict)."""
    folder = tmp_path_factory.mktemp("scheduled-evaluate")
    uri = _copy_store(served_model.tracking_uri, folder / "store")
    times = pd.Series(sorted(served_model.frame["ds"].unique()))
    as_ofs = [times[530 + H * i] for i in range(4)]
    for i, as_of in enumerate(as_ofs):
        code = main(
            [
                "predict",
                "--model",
                served_model.champion,
                "--data",
                str(served_model.data_csv),
                "--output",
                str(folder / f"forecast-{i}.csv"),
                "--as-of",
                as_of.isoformat(),
                "--tracking-uri",
                uri,
            ]
        )
        assert code == ExitStatus.OK
    return folder, as_ofs


def _actuals(served_model, as_ofs, path: Path, shift: float = 0.0) -> Path:
    frame = served_model.frame
    frame = frame.assign(y=frame["y"] + shift * (frame["ds"] > as_ofs[0]))
    frame[frame["ds"] <= as_ofs[-1]].to_csv(path, index=False)
    return path


def _add(state: Path, uri: str, *flags: str) -> int:
    return main(
        ["schedule", "add", "judge", "--evaluate", "--cron", YEARLY, *flags]
        + ["--tracking-uri", uri, "--state-dir", str(state)]
    )


def _run(state: Path):
    with store_editor(state) as editor:
        kwargs = dict(editor.get_job("judge").kwargs)
    return run_evaluate_job(**kwargs, as_of=SLOT)


def _history(state: Path, capsys) -> str:
    capsys.readouterr()
    assert main(["schedule", "history", "judge", "--state-dir", str(state)]) == ExitStatus.OK
    return capsys.readouterr().out


def test_an_evaluate_schedule_is_stored_listed_and_records_no_drift_as_ok(
    served_model, forecasts, tmp_path, capsys
):
    folder, as_ofs = forecasts
    uri = _copy_store(served_model.tracking_uri, tmp_path / "store")
    state = tmp_path / "state"
    actuals = _actuals(served_model, as_ofs, tmp_path / "actuals.csv")
    glob = str(folder / "forecast-*.csv")
    flags = ["--forecasts", glob, "--actuals", str(actuals), "--model", served_model.name]
    assert _add(state, uri, *flags, "--last", "5") == ExitStatus.OK
    assert capsys.readouterr().out.startswith("added evaluate schedule 'judge': 0 0 1 1 * (UTC)")
    with store_editor(state) as editor:
        job = editor.get_job("judge")
        assert (job.func_ref, job.executor) == (EVALUATE_FUNCTION, RETRAIN_EXECUTOR)
        assert (job.coalesce, job.max_instances) == (True, 1)
        assert job.kwargs["arguments"] == ["--last", "5"]
        assert job.kwargs["tracking_uri"] == uri
    (schedule,) = list_schedules(state)
    assert (schedule.kind, schedule.data, schedule.model) == (EVALUATE, glob, served_model.name)
    assert main(["schedule", "list", "--state-dir", str(state)]) == ExitStatus.OK
    listed = capsys.readouterr().out.splitlines()[1]
    assert listed.startswith("judge (evaluate)  0 0 1 1 * (UTC)") and listed.endswith("never run")

    outcome = _run(state)
    assert outcome.status == "ok", outcome.error
    assert outcome.scheduled_for == SLOT.isoformat()
    assert outcome.output.startswith(f"no drift: {served_model.name} v"), outcome.output
    assert outcome.error is None and outcome.mlflow_run_id  # the version's monitoring run
    assert "\n" not in outcome.output
    assert (state / "evaluations").is_dir()
    (row,) = _history(state, capsys).splitlines()[1:]
    assert " judge " in row and " ok " in row and outcome.mlflow_run_id in row
    assert row.endswith(outcome.output)


def test_a_drift_alarm_is_its_own_status_with_the_alarm_line(
    served_model, forecasts, tmp_path, capsys
):
    folder, as_ofs = forecasts
    uri = _copy_store(served_model.tracking_uri, tmp_path / "store")
    state = tmp_path / "state"
    actuals = _actuals(served_model, as_ofs, tmp_path / "shifted.csv", shift=SHIFT)
    flags = ["--forecasts", str(folder / "forecast-*.csv"), "--actuals", str(actuals)]
    assert _add(state, uri, *flags) == ExitStatus.OK
    outcome = _run(state)
    assert outcome.status == "drift", outcome.error
    assert outcome.error is None  # the check worked: not a failed job
    assert outcome.output.startswith(f"drift alarm: {served_model.name} v"), outcome.output
    assert "\n" not in outcome.output and "no drift" not in outcome.output
    capsys.readouterr()
    assert main(["schedule", "list", "--state-dir", str(state)]) == ExitStatus.OK
    assert f"drift: drift alarm: {served_model.name} v" in capsys.readouterr().out
    (row,) = _history(state, capsys).splitlines()[1:]
    assert " drift " in row and row.endswith(outcome.output)
    # `schedule run` exits as `forecast evaluate` does on an alarm, not as a failed job.
    assert main(["schedule", "run", "judge", "--state-dir", str(state)]) == ExitStatus.DRIFT_ALARM
    assert "judge': " in capsys.readouterr().out
    assert [r.status for r in RunHistory(state).runs("judge")] == ["drift", "drift"]


def test_forecasts_without_lineage_are_a_failed_run_with_one_line(
    served_model, forecasts, tmp_path, capsys
):
    folder, as_ofs = forecasts
    uri = _copy_store(served_model.tracking_uri, tmp_path / "store")
    state = tmp_path / "state"
    bare = tmp_path / "bare.csv"
    bare.write_bytes((folder / "forecast-0.csv").read_bytes())  # without its .lineage.json
    actuals = _actuals(served_model, as_ofs, tmp_path / "actuals.csv")
    assert _add(state, uri, "--forecasts", str(bare), "--actuals", str(actuals)) == 0
    outcome = _run(state)
    assert outcome.status == "failed"
    assert "bare.csv.lineage.json" in outcome.error and "\n" not in outcome.error
    assert outcome.output is None and outcome.mlflow_run_id is None
    (row,) = _history(state, capsys).splitlines()[1:]
    assert " failed " in row and row.endswith(outcome.error)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--evaluate", "--forecasts", "f*.csv"], "error: --actuals is required with --evaluate"),
        (["--evaluate", "--actuals", "a.csv"], "error: --forecasts is required with --evaluate"),
        (
            ["--evaluate", "--forecasts", "f*.csv", "--actuals", "a.csv", "--data", "d.csv"],
            "error: --data is not for evaluate schedules",
        ),
        (
            ["--evaluate", "--forecasts", "f", "--actuals", "a", "--retrain", "p.yaml"],
            "error: --retrain is not for evaluate schedules",
        ),
        (
            ["--evaluate", "--forecasts", "f", "--actuals", "a", "--config", "missing.yaml"],
            "missing.yaml: pipeline config not found",
        ),
        (
            ["--evaluate", "--forecasts", "f", "--actuals", "a", "--set", "monitoring.nope=1"],
            "monitoring.nope",
        ),
        (["--forecasts", "f*.csv", "--model", "m"], "error: --forecasts is for evaluate schedules"),
        (["--retrain", "p.yaml", "--margin", "0.5"], "error: --margin is for evaluate schedules"),
    ],
)
def test_schedule_add_refuses_a_mixed_or_incomplete_evaluate_schedule_in_one_line(
    tmp_path, capsys, extra, message
):
    state = tmp_path / "state"
    status = main(["schedule", "add", "x", "--cron", YEARLY, *extra, "--state-dir", str(state)])
    err = capsys.readouterr().err
    assert status == ExitStatus.BAD_INPUT
    assert message in err and len(err.strip().splitlines()) == 1, err
    assert list_schedules(state) == []


def test_the_scheduler_process_runs_a_due_evaluation_in_its_background_executor(
    served_model, forecasts, tmp_path
):
    """``forecast scheduler`` (``serve``, in a thread here) picks up an evaluate schedule made
    due and records its run; the history row's slot is the fire time."""
    folder, as_ofs = forecasts
    uri = _copy_store(served_model.tracking_uri, tmp_path / "store")
    state = tmp_path / "state"
    actuals = _actuals(served_model, as_ofs, tmp_path / "actuals.csv")
    flags = ["--forecasts", str(folder / "forecast-*.csv"), "--actuals", str(actuals)]
    assert _add(state, uri, *flags) == ExitStatus.OK
    due = datetime.now(UTC).replace(microsecond=0)
    with store_editor(state) as editor:
        editor.modify_job("judge", next_run_time=due)
    stop = threading.Event()
    daemon = threading.Thread(
        target=serve, args=(state,), kwargs={"poll_seconds": 0.2, "stop": stop}
    )
    daemon.start()
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:  # polls the history: no fixed wait
            runs = RunHistory(state).runs("judge")
            if runs and runs[-1].status != "running":
                break
            time.sleep(0.2)
    finally:
        stop.set()
        daemon.join(timeout=120)
    assert not daemon.is_alive()
    (run,) = RunHistory(state).runs("judge")
    assert run.status == "ok", run.error
    assert run.output.startswith("no drift: ")
    assert datetime.fromisoformat(run.scheduled_for) == due
