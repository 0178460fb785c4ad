"""The `forecast scheduler` process: restarts, failing jobs, the lock, SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import mlflow
import pandas as pd
import pytest

from forecasting.cli import main
from forecasting.exit_status import ExitStatus
from forecasting.serving.batch import EXPERIMENT
from forecasting.serving.schedule.history import RunHistory
from forecasting.serving.schedule.lock import exclusive
from forecasting.serving.schedule.state import LOCK_FILE, LOG_FILE


def _start_scheduler(served_model, state: Path, cwd: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "forecasting",
            "scheduler",
            "--state-dir",
            str(state),
            "--poll-seconds",
            "0.5",
        ],
        cwd=cwd,
        env=served_model.env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_for(condition, timeout: float, what: str, proc: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        if proc is not None and proc.poll() is not None:
            pytest.fail(
                f"scheduler exited with {proc.returncode} while waiting for {what}: {proc.stderr.read()}"
            )
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
    log = state / LOG_FILE
    return log.exists() and log.read_text().count(text) >= count


def test_scheduler_survives_a_restart_and_a_failing_job_does_not_stop_another(
    served_model, tmp_path, job_ids
):
    state, out = tmp_path / "state", tmp_path / "forecasts"
    broken_data = tmp_path / "no-target.csv"
    served_model.frame.drop(columns=["y"]).to_csv(broken_data, index=False)
    common = [
        "--cron",
        "*/2 * * * * *",
        "--model",
        served_model.champion,
        "--tracking-uri",
        served_model.tracking_uri,
        "--state-dir",
        str(state),
    ]
    assert (
        main(
            [
                "schedule",
                "add",
                "good",
                *common,
                "--data",
                str(served_model.data_csv),
                "--output",
                str(out / "good-{as_of:%H%M%S}.csv"),
            ]
        )
        == 0
    )
    assert (
        main(
            [
                "schedule",
                "add",
                "broken",
                *common,
                "--data",
                str(broken_data),
                "--output",
                str(out / "broken-{as_of:%H%M%S}.csv"),
            ]
        )
        == 0
    )

    first = _start_scheduler(served_model, state, tmp_path)
    _wait_for(lambda: _log_has(state, "scheduler started"), 60, "the first start", first)
    code, err = _stop(first)
    assert code == 0, err
    assert "SIGTERM received" in err and "scheduler stopped" in err
    assert job_ids(state) == ["broken", "good"]

    second = _start_scheduler(served_model, state, tmp_path)
    history = RunHistory(state)

    def good_ran_after_broken_failed() -> bool:
        broken = [r for r in history.runs("broken") if r.status == "failed"]
        return bool(broken) and any(
            r.status == "ok" and r.started_at >= broken[0].finished_at for r in history.runs("good")
        )

    _wait_for(good_ran_after_broken_failed, 90, "a good run after a failed one", second)
    rival = subprocess.run(
        [sys.executable, "-m", "forecasting", "scheduler", "--state-dir", str(state)],
        env=served_model.env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert (
        rival.returncode == ExitStatus.BUSY == 75
    )  # not bad input: it works once the other one ends
    assert (
        rival.stderr.strip()
        == f"error: {state}: another forecast scheduler is running (pid {second.pid})"
    )
    code, err = _stop(second)
    assert code == 0, err
    assert job_ids(state) == ["broken", "good"]  # still exactly once each after two starts
    assert _log_has(state, "scheduler started", 2)
    assert "schedule 'broken' failed: " in err and "missing target column 'y'" in err

    ok = [r for r in history.runs("good") if r.status == "ok"]
    written = Path(ok[-1].output)
    assert written.parent == out and written.name.startswith("good-")
    forecast = pd.read_csv(written)
    assert len(forecast) == 12 and list(forecast.columns) == [
        "unique_id",
        "ds",
        "y_hat",
        "y_hat_lo_80",  # scheduled forecasts carry the model's default intervals
        "y_hat_hi_80",
        "y_hat_lo_95",
        "y_hat_hi_95",
        "forecaster",
    ]
    assert Path(f"{written}.lineage.json").exists()
    assert not list(out.glob("broken-*")) and not list(out.glob(".*.tmp"))

    listing = subprocess.run(
        [sys.executable, "-m", "forecasting", "schedule", "list", "--state-dir", str(state)],
        env=served_model.env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
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


def test_a_second_scheduler_exits_busy_while_the_lock_is_held(tmp_path):
    """The lock held by this process (as a running scheduler holds it): a scheduler started now exits 75."""
    state = tmp_path / "state"
    state.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "FORECAST_STATE_DIR"} | {
        "TF_CPP_MIN_LOG_LEVEL": "2"
    }
    with exclusive(state):
        assert (state / LOCK_FILE).read_text() == f"{os.getpid()}\n"
        busy = subprocess.run(
            [sys.executable, "-m", "forecasting", "scheduler", "--state-dir", str(state)],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert busy.returncode == ExitStatus.BUSY, busy.stderr
    assert (
        busy.stderr.strip()
        == f"error: {state}: another forecast scheduler is running (pid {os.getpid()})"
    )
    assert busy.stdout == ""
    assert sorted(p.name for p in state.iterdir()) == [
        LOCK_FILE
    ]  # no log, no job store, no history
