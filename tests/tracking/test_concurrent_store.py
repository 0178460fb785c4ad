"""One SQLite store, several real `forecast` processes at once.

Two comparisons and a prediction running at the same time on the same store all succeed (the
writers wait for each other instead of failing with "database is locked"), and a comparison
killed with SIGKILL leaves RUNNING runs that the next command in that store ends KILLED, with
the reason, while a RUNNING run of a live process is left alone.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import mlflow
import pytest
from mlflow.entities import ViewType

from forecasting.tracking.owner import HOST_TAG, PID_TAG, ownership_tags
from forecasting.tracking.runs import REASON_TAG, tracked_run

ROOT = Path(__file__).resolve().parents[2]
LOOKBACK, HORIZON = 24, 6
EXPERIMENT, MODEL_NAME = "concurrent-store", "concurrent-forecaster"


def _env(uri: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "MLFLOW_TRACKING_URI": uri,
            "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")])),
            "TF_CPP_MIN_LOG_LEVEL": "2",
        }
    )
    env.pop("MLFLOW_REGISTRY_URI", None)
    env.pop("FORECAST_STATE_DIR", None)
    return env


def _start(args: list[str], uri: str, cwd: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "forecasting", *args],
        env=_env(uri),
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _compare_args(data_csv: Path, uri: str) -> list[str]:
    return [
        "compare",
        "--data",
        str(data_csv),
        "--horizon",
        str(HORIZON),
        "--lookback",
        str(LOOKBACK),
        "--units",
        "8",
        "--max-epochs",
        "1",
        "--batch-size",
        "64",
        "--experiment",
        EXPERIMENT,
        "--model-name",
        MODEL_NAME,
        "--set",
        f"mlflow.tracking_uri={uri}",
    ]


def _all_runs(uri: str) -> list:
    client = mlflow.MlflowClient(tracking_uri=uri)
    ids = [e.experiment_id for e in client.search_experiments(view_type=ViewType.ALL)]
    return client.search_runs(ids, run_view_type=ViewType.ALL, max_results=1000)


@pytest.mark.slow
def test_two_comparisons_and_a_prediction_at_once_all_succeed(
    served_model, synthetic_panel, tmp_path
):
    # A copy of the served model's store: the prediction's model is registered there, and the
    # session's store stays as other tests expect it.
    shutil.copytree(served_model.root / "mlruns", tmp_path / "mlruns")
    uri = f"sqlite:///{tmp_path / 'mlruns' / 'mlflow.db'}"
    data_csv = tmp_path / "history.csv"
    synthetic_panel(["a", "b"], 300, seed=11).to_csv(data_csv, index=False)
    output = tmp_path / "forecast.csv"
    predict = [
        "predict",
        "--model",
        served_model.champion,
        "--data",
        str(served_model.data_csv),
        "--output",
        str(output),
    ]
    procs = [
        _start(_compare_args(data_csv, uri), uri, tmp_path),
        _start(_compare_args(data_csv, uri), uri, tmp_path),
        _start(predict, uri, tmp_path),
    ]
    finished = [p.communicate(timeout=600) for p in procs]
    for proc, (_, err) in zip(procs, finished, strict=True):
        assert proc.returncode == 0, err
    assert output.exists()

    runs = _all_runs(uri)
    ours = [r for r in runs if r.data.tags.get(PID_TAG) in {str(p.pid) for p in procs}]
    # per comparison: the parent, an LSTM and a GRU run; and the prediction's run
    assert len([r for r in ours if r.data.tags.get("role") == "comparison"]) == 2
    assert len(ours) >= 7
    assert {r.info.status for r in ours} == {"FINISHED"}
    assert {r.data.tags[HOST_TAG] for r in ours} == {socket.gethostname()}


def _wait_for_running_comparison(uri: str, proc: subprocess.Popen, timeout: float = 300):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()[1]
        try:
            runs = _all_runs(uri)
        except Exception:  # the store is still being created by the comparison
            runs = []
        parents = [
            r
            for r in runs
            if r.data.tags.get("role") == "comparison" and r.info.status == "RUNNING"
        ]
        children = [r for r in runs if r.data.tags.get("mlflow.parentRunId")]
        if parents and children:  # killed inside a family's run: parent and child both open
            return parents[0]
        time.sleep(0.5)
    raise AssertionError("the comparison never showed a RUNNING run")


@pytest.mark.slow
def test_runs_of_a_killed_comparison_end_killed_at_the_next_command(synthetic_panel, tmp_path):
    uri = f"sqlite:///{tmp_path / 'mlruns' / 'mlflow.db'}"
    data_csv = tmp_path / "history.csv"
    synthetic_panel(["a", "b"], 300, seed=5).to_csv(data_csv, index=False)

    victim = _start(_compare_args(data_csv, uri), uri, tmp_path)
    try:
        parent = _wait_for_running_comparison(uri, victim)
    finally:
        victim.send_signal(signal.SIGKILL)
        victim.communicate(timeout=60)
    assert victim.returncode == -signal.SIGKILL
    killed = [r for r in _all_runs(uri) if r.info.status == "RUNNING"]
    assert parent.info.run_id in {r.info.run_id for r in killed}
    assert all(r.data.tags[PID_TAG] == str(victim.pid) for r in killed)

    # Left alone: a RUNNING run of this live process, and one of a gone pid on another host.
    # (Not through use_store, which would end the killed runs itself: the next command must.)
    mlflow.set_tracking_uri(uri)
    experiment_id = mlflow.get_experiment_by_name(EXPERIMENT).experiment_id
    client = mlflow.MlflowClient(tracking_uri=uri)
    elsewhere = client.create_run(
        experiment_id,
        tags=ownership_tags() | {HOST_TAG: "another-host", PID_TAG: str(victim.pid)},
    )
    with tracked_run(experiment_id=experiment_id, run_name="held-open") as held:
        nxt = _start(_compare_args(data_csv, uri), uri, tmp_path)
        _, err = nxt.communicate(timeout=600)
        assert nxt.returncode == 0, err
        assert client.get_run(held.info.run_id).info.status == "RUNNING"
    assert client.get_run(elsewhere.info.run_id).info.status == "RUNNING"
    client.set_terminated(elsewhere.info.run_id, "FINISHED")

    reason = f"process {victim.pid} on host {socket.gethostname()} is gone"
    for run in killed:
        after = client.get_run(run.info.run_id)
        assert after.info.status == "KILLED"
        assert after.info.end_time is not None
        assert after.data.tags[REASON_TAG].startswith(reason)
    assert f"ended {len(killed)} RUNNING run" in err


@pytest.mark.slow
def test_two_comparisons_on_a_new_store_at_once_both_succeed(synthetic_panel, tmp_path):
    # Both open a store that does not exist yet: one creates its tables, the other waits.
    uri = f"sqlite:///{tmp_path / 'mlruns' / 'mlflow.db'}"
    data_csv = tmp_path / "history.csv"
    synthetic_panel(["a", "b"], 300, seed=13).to_csv(data_csv, index=False)
    procs = [_start(_compare_args(data_csv, uri), uri, tmp_path) for _ in range(2)]
    finished = [p.communicate(timeout=600) for p in procs]
    for proc, (_, err) in zip(procs, finished, strict=True):
        assert proc.returncode == 0, err
    runs = [r for r in _all_runs(uri) if r.data.tags.get("role") == "comparison"]
    assert len(runs) == 2
    assert {r.info.status for r in runs} == {"FINISHED"}
