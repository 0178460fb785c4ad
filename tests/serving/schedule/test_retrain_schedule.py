"""Retrain schedules: stored in the same job store as predictions, run by the scheduler as a
`forecast retrain` child process from an executor of their own, so a prediction still fires
while a retrain runs; the history records what the retrain did and why.
"""

from __future__ import annotations

import os
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import mlflow
import pytest
import yaml

from forecasting.cli import main
from forecasting.exit_status import ExitStatus
from forecasting.serving.schedule import (
    RunHistory,
    add_retrain_schedule,
    add_schedule,
    list_schedules,
    run_retrain_job,
    serve,
)
from forecasting.serving.schedule.store import (
    RETRAIN,
    RETRAIN_EXECUTOR,
    RETRAIN_FUNCTION,
    store_editor,
)
from forecasting.tracking.owner import PID_TAG
from forecasting.tracking.registry import model_lock

YEARLY = "0 0 1 1 *"  # never due by itself during a test: each test makes a job due when it wants
RETRAIN_MODEL = "scheduled-retrain-forecaster"


def _pipeline(path: Path, config, **training) -> Path:
    tree = config.model_dump(mode="json")
    tree["training"].update(training)
    path.write_text(yaml.safe_dump(tree))
    return path


@pytest.fixture
def pipeline_file(tmp_path) -> Path:
    """A pipeline file that needs no store: schedule add only reads it."""
    return _pipeline(tmp_path / "p.yaml", _config(tmp_path / "data.csv"))


def _config(data: Path):
    from forecasting.config import build_config

    return build_config({"data": {"path": str(data)}, "windowing": {"horizon": 6}}, "test")


def test_schedule_add_retrain_stores_a_retrain_job_for_its_own_executor(
    tmp_path, pipeline_file, capsys
):
    state = tmp_path / "state"
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    args = ["schedule", "add", "nightly", "--retrain", str(pipeline_file), "--cron", "0 3 * * *"]
    status = main([*args, "--state-dir", str(state), "--tracking-uri", uri])
    assert status == ExitStatus.OK
    assert capsys.readouterr().out.startswith("added retrain schedule 'nightly': 0 3 * * * (UTC)")
    with store_editor(state) as editor:
        job = editor.get_job("nightly")
        assert (job.func_ref, job.executor) == (RETRAIN_FUNCTION, RETRAIN_EXECUTOR)
        assert job.kwargs["pipeline"] == str(pipeline_file.resolve())
        assert job.kwargs["tracking_uri"] == uri
        assert (job.coalesce, job.max_instances) == (True, 1)
    (schedule,) = list_schedules(state)
    assert (schedule.kind, schedule.data) == (RETRAIN, str(pipeline_file.resolve()))
    assert main(["schedule", "list", "--state-dir", str(state)]) == ExitStatus.OK
    assert capsys.readouterr().out.splitlines()[1].startswith("nightly (retrain)  0 3 * * * (UTC)")


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--retrain", "P", "--model", "models:/m@champion"], "error: --model is for prediction"),
        (["--retrain", "missing.yaml"], "missing.yaml: pipeline config not found"),
        (["--model", "models:/m@champion", "--output", "o.csv"], "error: --data is required"),
    ],
)
def test_schedule_add_refuses_a_mixed_or_incomplete_schedule_in_one_line(
    tmp_path, pipeline_file, capsys, extra, message
):
    extra = [str(pipeline_file) if x == "P" else x for x in extra]
    state = tmp_path / "state"
    status = main(["schedule", "add", "x", "--cron", YEARLY, *extra, "--state-dir", str(state)])
    err = capsys.readouterr().err
    assert status == ExitStatus.BAD_INPUT
    assert message in err and len(err.strip().splitlines()) == 1
    assert list_schedules(state) == []


@pytest.fixture(scope="module")
def registered(tmp_path_factory, run_tiny_comparison, synthetic_panel):
    """A tiny cold comparison whose pipeline the retrain schedules rerun."""
    root = tmp_path_factory.mktemp("scheduled-retrain")
    return run_tiny_comparison(
        root,
        synthetic_panel(["s0", "s1"], 480, seed=11),
        "scheduled-retrain",
        RETRAIN_MODEL,
        24,
        6,
        serve=None,
    )


def _make_due(state: Path, name: str) -> None:
    with store_editor(state) as editor:
        editor.modify_job(name, next_run_time=datetime.now(UTC))


def _wait_for(condition, what: str, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    pytest.fail(f"timed out waiting for {what}")


def _statuses(state: Path, name: str) -> list[str]:
    return [r.status for r in RunHistory(state).runs(name)]


@pytest.mark.slow
def test_a_prediction_fires_while_a_retrain_runs_in_its_own_process(
    registered, served_model, tmp_path
):
    state = tmp_path / "state"
    pipeline = _pipeline(
        tmp_path / "retrain.yaml", registered.config, warm_start="latest", warm_epochs=0
    )
    add_retrain_schedule(
        "retrain", YEARLY, pipeline, tracking_uri=registered.tracking_uri, folder=state
    )
    add_schedule(
        "predict",
        YEARLY,
        served_model.champion,
        served_model.data_csv,
        str(tmp_path / "out" / "{name}.csv"),
        tracking_uri=served_model.tracking_uri,
        folder=state,
    )
    stop = threading.Event()
    daemon = threading.Thread(
        target=serve, args=(state,), kwargs={"poll_seconds": 0.2, "stop": stop}
    )
    # The retrain cannot finish while the test holds its registered model's lock: its child
    # trains, then waits for the lock to settle champion or challenger.
    with model_lock(registered.tracking_uri, RETRAIN_MODEL):
        _make_due(state, "retrain")
        daemon.start()
        try:
            _wait_for(lambda: _statuses(state, "retrain") == ["running"], "the retrain to start")
            _make_due(state, "predict")  # due only now, while the retrain runs
            _wait_for(lambda: "ok" in _statuses(state, "predict"), "the prediction")
            assert _statuses(state, "retrain") == ["running"]  # still held by the lock
        except BaseException:
            stop.set()
            raise
    try:
        _wait_for(lambda: _statuses(state, "retrain") != ["running"], "the retrain to finish")
    finally:
        stop.set()
        daemon.join(timeout=120)
    assert not daemon.is_alive()
    assert (tmp_path / "out" / "predict.csv").exists()
    (run,) = RunHistory(state).runs("retrain")
    assert run.status == "ok", run.error
    # Unchanged data and the registered weights (warm_epochs 0): the candidate is no better.
    assert " stays challenger: does not beat the current champion on the same windows" in run.output
    assert "LSTM warm: from version" in run.output and "GRU warm: from version" in run.output
    tags = mlflow.MlflowClient(tracking_uri=registered.tracking_uri).get_run(run.mlflow_run_id)
    tags = tags.data.tags
    assert tags["retrain.schedule"] == "retrain"
    assert tags["champion.promoted"] == "false"
    assert tags[PID_TAG] != str(os.getpid())  # trained in a process of its own
    assert (state / "retrains").is_dir()


@pytest.mark.slow
def test_a_refused_retrain_is_a_failed_run_with_its_one_line_reason(registered, tmp_path):
    state = tmp_path / "state"
    pipeline = _pipeline(tmp_path / "wider.yaml", registered.config, warm_start="latest")
    tree = yaml.safe_load(pipeline.read_text())
    tree["model"]["units"] = 16  # the registered versions have 8 units
    pipeline.write_text(yaml.safe_dump(tree))
    add_retrain_schedule(
        "wider", YEARLY, pipeline, tracking_uri=registered.tracking_uri, folder=state
    )
    client = mlflow.MlflowClient(tracking_uri=registered.tracking_uri)
    experiments = [e.experiment_id for e in client.search_experiments()]
    runs_before = len(client.search_runs(experiments, max_results=1000))
    with store_editor(state) as editor:
        kwargs = dict(editor.get_job("wider").kwargs)
    as_of = datetime(2026, 1, 1, 3, 0, tzinfo=UTC)
    outcome = run_retrain_job(**kwargs, as_of=as_of)
    assert outcome.status == "failed"
    assert outcome.scheduled_for == as_of.isoformat()
    assert outcome.error.startswith("training.warm_start is latest but LSTM cannot start warm")
    assert "\n" not in outcome.error and "nothing was trained" in outcome.error
    runs = client.search_runs(experiments, max_results=1000)
    assert len(runs) == runs_before
    assert not [r for r in runs if r.info.status == "RUNNING"]
