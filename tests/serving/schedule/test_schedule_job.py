"""One run of a schedule, now, in this process (`forecast schedule run`)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import mlflow
import pandas as pd

from forecasting.cli import main
from forecasting.serving.schedule.history import RunHistory
from forecasting.serving.schedule.store import add_schedule


def test_run_once_now(served_model, tmp_path, capsys):
    state = tmp_path / "state"
    add_schedule(
        "nightly",
        "0 6 * * *",
        served_model.champion,
        served_model.data_csv,
        str(tmp_path / "out" / "{name}-{as_of:%Y%m%d}.parquet"),
        tracking_uri=served_model.tracking_uri,
        folder=state,
    )
    before = datetime.now(UTC).replace(microsecond=0)
    assert main(["schedule", "run", "nightly", "--state-dir", str(state)]) == 0
    after = datetime.now(UTC)
    outcome = RunHistory(state).last("nightly")
    assert outcome.status == "ok" and outcome.mlflow_run_id
    # The output is named by the run's own as-of time (now, when it ran), not by today's date
    # when the test checks: the two differ for a run that straddles UTC midnight.
    as_of = datetime.fromisoformat(
        json.loads(Path(f"{outcome.output}.lineage.json").read_text())["as_of"]
    )
    assert before <= as_of <= after
    assert Path(outcome.output) == tmp_path / "out" / f"nightly-{as_of:%Y%m%d}.parquet"
    assert len(pd.read_parquet(outcome.output)) == 12
    assert "schedule 'nightly': " in capsys.readouterr().out and " ok: " in outcome.describe()


def test_a_failed_run_is_linked_to_its_failed_mlflow_run(served_model, tmp_path, capsys):
    state, broken = tmp_path / "state", tmp_path / "no-target.csv"
    served_model.frame.drop(columns=["y"]).to_csv(broken, index=False)
    add_schedule(
        "broken",
        "0 6 * * *",
        served_model.champion,
        broken,
        str(tmp_path / "out" / "{name}.csv"),
        tracking_uri=served_model.tracking_uri,
        folder=state,
    )
    assert main(["schedule", "run", "broken", "--state-dir", str(state)]) == 1
    outcome = RunHistory(state).last("broken")
    assert outcome.status == "failed" and "missing target column 'y'" in outcome.error
    run = mlflow.MlflowClient(tracking_uri=served_model.tracking_uri).get_run(outcome.mlflow_run_id)
    assert run.info.status == "FAILED" and run.data.tags["schedule"] == "broken"
    assert "missing target column 'y'" in run.data.tags["failure_reason"]
    assert "schedule 'broken': " in capsys.readouterr().out
    assert not (tmp_path / "out").exists()


def test_a_schedule_passes_its_prediction_options_to_every_run(served_model, tmp_path, capsys):
    """--levels, and how to read the file (a ';' file with day-first dates), given to
    `schedule add`, reach each run; a bad level is refused at add time with nothing stored."""
    state = tmp_path / "state"
    frame = served_model.frame[served_model.frame["ds"] < "2024-01-13"]  # days 1..12: ambiguous
    data = tmp_path / "local.csv"
    frame.assign(ds=frame["ds"].dt.strftime("%d/%m/%Y %H:%M")).to_csv(data, sep=";", index=False)
    common = [
        "schedule",
        "add",
        "daily",
        "--cron",
        "0 6 * * *",
        "--model",
        served_model.champion,
        "--tracking-uri",
        served_model.tracking_uri,
        "--data",
        str(data),
        "--output",
        str(tmp_path / "out" / "{as_of:%Y%m%d}.csv"),
        "--state-dir",
        str(state),
    ]
    assert main([*common, "--levels", "80,101"]) == 2
    assert "101" in capsys.readouterr().err
    assert main(["schedule", "list", "--state-dir", str(state)]) == 0
    assert "daily" not in capsys.readouterr().out

    assert main([*common, "--levels", "90", "--dayfirst"]) == 0
    assert main(["schedule", "run", "daily", "--state-dir", str(state)]) == 0
    outcome = RunHistory(state).last("daily")
    assert outcome.status == "ok", outcome.error
    forecast = pd.read_csv(outcome.output)
    assert [c for c in forecast.columns if c.startswith("y_hat_")] == ["y_hat_lo_90", "y_hat_hi_90"]
