"""What the README and docs/serving.md promise about the `forecast scheduler` process, checked
on the real process through the command line and the MLflow store it writes to: schedules never
overlap, and SIGTERM lets a running prediction finish before the scheduler exits 0.

Only the CLI and the documented records are used (each prediction is an MLflow run in
``batch-predictions`` tagged ``schedule``, with its lineage as ``lineage.*`` tags), so these
tests hold whatever the scheduler's modules are called.
"""

from __future__ import annotations

import hashlib
import signal
import subprocess
import sys
import time
from pathlib import Path

import mlflow
import pandas as pd
import pytest

from forecasting.cli import main
from forecasting.serving.schedule.history import RunHistory

BATCH_EXPERIMENT = "batch-predictions"
EVERY_SECOND = "* * * * * *"


def _add(served_model, state: Path, name: str, data: Path, output: str) -> None:
    assert (
        main(
            [
                "schedule",
                "add",
                name,
                "--cron",
                EVERY_SECOND,
                "--model",
                served_model.champion,
                "--data",
                str(data),
                "--output",
                output,
                "--tracking-uri",
                served_model.tracking_uri,
                "--state-dir",
                str(state),
            ]
        )
        == 0
    )


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


def _stop(proc: subprocess.Popen) -> tuple[int, str]:
    """SIGTERM, then wait for the scheduler to exit by itself."""
    proc.send_signal(signal.SIGTERM)
    try:
        _, err = proc.communicate(timeout=180)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    return proc.returncode, err


def _schedule_runs(served_model, names: list[str]) -> list:
    """The prediction runs of these schedules, oldest first."""
    client = mlflow.MlflowClient(tracking_uri=served_model.tracking_uri)
    experiment = client.get_experiment_by_name(BATCH_EXPERIMENT)
    if experiment is None:
        return []
    runs = [
        run
        for name in names
        for run in client.search_runs(
            [experiment.experiment_id], f"tags.schedule = '{name}'", max_results=1000
        )
    ]
    return sorted(runs, key=lambda r: r.info.start_time)


def _wait_for(condition, proc: subprocess.Popen, timeout: float, what: str, every: float = 0.25):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        if proc.poll() is not None:
            pytest.fail(
                f"scheduler exited with {proc.returncode} while waiting for {what}: {proc.stderr.read()}"
            )
        time.sleep(every)
    proc.kill()
    pytest.fail(f"timed out waiting for {what}: {proc.communicate()[1][-3000:]}")


def test_schedules_never_overlap(served_model, tmp_path):
    """Two schedules due at the same instants, every second, with runs that take longer than
    that: runs are one at a time, across schedules and within one (docs/serving.md, "Late runs").
    Running them side by side (a second worker, or a second instance of a job) shows as overlap."""
    state, out = tmp_path / "state", tmp_path / "forecasts"
    names = ["first", "second"]
    for name in names:
        _add(
            served_model,
            state,
            name,
            served_model.data_csv,
            str(out / f"{name}-{{as_of:%H%M%S}}.csv"),
        )

    proc = _start_scheduler(served_model, state, tmp_path)

    def enough_finished():
        finished = [r for r in _schedule_runs(served_model, names) if r.info.status == "FINISHED"]
        per_schedule = {n: sum(r.data.tags["schedule"] == n for r in finished) for n in names}
        return min(per_schedule.values()) >= 2

    _wait_for(enough_finished, proc, 240, "two finished runs of each schedule")
    code, err = _stop(proc)
    assert code == 0, err

    runs = _schedule_runs(served_model, names)
    assert all(r.info.status == "FINISHED" for r in runs), [
        (r.data.tags["schedule"], r.info.status) for r in runs
    ]
    spans = [(r.info.start_time, r.info.end_time, r.data.tags["schedule"]) for r in runs]
    for (_, previous_end, previous), (start, _, name) in zip(spans, spans[1:], strict=False):
        assert start >= previous_end, (
            f"a run of {name!r} started before the run of {previous!r} ended"
        )


def test_sigterm_lets_a_running_prediction_finish(served_model, synthetic_panel, tmp_path, capsys):
    """SIGTERM while a scheduled prediction runs: the prediction completes, its output is whole
    and matches its lineage, and the scheduler then exits 0 (README, "Batch predictions,
    schedules and Spark"; docs/serving.md, "Stopping")."""
    state = tmp_path / "state"
    data = tmp_path / "many-series.csv"
    # 200 series: a run takes seconds, so the signal lands in the middle of one.
    synthetic_panel([f"store-{i}" for i in range(200)], 48, start="2024-03-01").to_csv(
        data, index=False
    )
    _add(served_model, state, "busy", data, str(tmp_path / "forecasts" / "{as_of:%H%M%S}.parquet"))

    proc = _start_scheduler(served_model, state, tmp_path)
    running = _wait_for(
        lambda: [r for r in _schedule_runs(served_model, ["busy"]) if r.info.status == "RUNNING"],
        proc,
        180,
        "a running prediction",
        every=0.1,
    )[0]
    signalled_ms = time.time() * 1000
    code, err = _stop(proc)
    assert code == 0, err

    run = mlflow.MlflowClient(tracking_uri=served_model.tracking_uri).get_run(running.info.run_id)
    assert run.info.status == "FINISHED", run.data.tags.get("failure_reason")
    assert run.info.end_time > signalled_ms, (
        "the prediction had already ended when SIGTERM was sent"
    )
    output = Path(run.data.tags["lineage.output_path"])
    assert hashlib.sha256(output.read_bytes()).hexdigest() == run.data.tags["lineage.output_sha256"]
    forecast = pd.read_parquet(output)
    assert len(forecast) == 200 * 6 and forecast["y_hat"].notna().all()
    assert {r.info.status for r in _schedule_runs(served_model, ["busy"])} == {"FINISHED"}

    capsys.readouterr()
    assert main(["schedule", "list", "--state-dir", str(state)]) == 0
    listed = capsys.readouterr().out.splitlines()[1]
    assert listed.startswith("busy ") and f" ok: {output}" in listed
    # Slots that fired while the run was going (every second) are recorded as skipped, not lost.
    skipped = [r for r in RunHistory(state).runs("busy") if r.status == "missed"]
    assert any(r.error == "skipped: the previous run was still going" for r in skipped)
