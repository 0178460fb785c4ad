"""`forecast evaluate` end to end: real forecasts of the tiny registered model, real actuals, a
real SQLite store.

The store of the session's ``served_model`` is copied first (SQLite's backup API; its artifacts
stay where they are and are only read), so the monitoring runs and version tags these tests
write do not reach other tests.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
from matplotlib.image import imread

from forecasting.cli import main
from forecasting.exit_status import ExitStatus
from forecasting.monitoring.record import EXPERIMENT, NAME_TAG, VERSION_TAG, WINDOW, step_of

SHIFT = 40.0  # the actuals' level shift: many times the noise (1) and the daily cycle (5)


@pytest.fixture(scope="module")
def store(served_model, tmp_path_factory):
    """A copy of the served model's store: ``(uri, name, history csv, frame)``."""
    folder = tmp_path_factory.mktemp("monitoring-store")
    source = sqlite3.connect(served_model.tracking_uri.removeprefix("sqlite:///"))
    target = sqlite3.connect(folder / "mlflow.db")
    with target:
        source.backup(target)
    source.close()
    target.close()
    return f"sqlite:///{folder / 'mlflow.db'}"


def _client(uri: str) -> mlflow.MlflowClient:
    return mlflow.MlflowClient(tracking_uri=uri, registry_uri=uri)


def _monitoring_runs(uri: str) -> list:
    c = _client(uri)
    experiment = c.get_experiment_by_name(EXPERIMENT)
    return c.search_runs([experiment.experiment_id]) if experiment else []


def _predict(served_model, uri: str, as_of: pd.Timestamp, out: Path) -> None:
    code = main(
        [
            "predict",
            "--model",
            served_model.champion,
            "--data",
            str(served_model.data_csv),
            "--output",
            str(out),
            "--as-of",
            as_of.isoformat(),
            "--tracking-uri",
            uri,
        ]
    )
    assert code == 0


def _evaluate(uri: str, forecasts: str, actuals: Path, *extra: str) -> int:
    return main(
        ["evaluate", "--forecasts", forecasts, "--actuals", str(actuals), "--tracking-uri", uri]
        + list(extra)
    )


def test_the_drift_alarm_rises_after_the_level_shift(served_model, store, tmp_path, capsys):
    """Forecasts every 6 hours (the horizon) from the history as it was; the actuals shift level
    by +40 from the 7th as-of time on. Each evaluate sees the actuals up to the latest as-of."""
    uri, frame = store, served_model.frame
    times = pd.Series(sorted(frame["ds"].unique()))
    h = 6
    as_ofs = [times[530 + h * i] for i in range(8)]
    shift_at = as_ofs[6]  # actuals after it are shifted: forecasts 0-5 see none of it
    shifted = frame.assign(y=frame["y"] + SHIFT * (frame["ds"] > shift_at))
    exits, lines = [], []
    for i, as_of in enumerate(as_ofs):
        _predict(served_model, uri, as_of, tmp_path / f"forecast-{i}.csv")
        actuals = tmp_path / "actuals.csv"
        shifted[shifted["ds"] <= as_of].to_csv(actuals, index=False)
        capsys.readouterr()
        exits.append(_evaluate(uri, str(tmp_path / "forecast-*.csv"), actuals))
        lines.append(capsys.readouterr().out)
    # The first three evaluates see fewer than 3 complete forecasts (the default minimum): no
    # verdict. Then no drift until forecast 6, the first to cover the shift, is complete at the
    # 8th as-of time: the alarm rises at once (the documented bound is K = 5 forecasts).
    assert exits == [0, 0, 0, 0, 0, 0, 0, ExitStatus.DRIFT_ALARM], lines
    assert "partial (0 of 12)" in lines[0]  # 2 series x 6 steps, none arrived yet
    assert "not judged" in lines[2] and "no drift:" in lines[3]
    alarm = [line for line in lines[-1].splitlines() if line.startswith("drift alarm:")]
    assert len(alarm) == 1 and f"{served_model.name} v" in alarm[0]
    # The shift came after forecast 6's as-of time: the baseline, forecast from the same history,
    # missed it as much, and the line says the data changed rather than the model.
    assert "worse as well: the data got harder" in alarm[0]

    # One monitoring run for the version, found by its tags, one step per complete as-of time.
    runs = _monitoring_runs(uri)
    assert len(runs) == 1
    run = runs[0]
    c = _client(uri)
    version = c.get_model_version_by_alias(served_model.name, "champion").version
    assert run.data.tags[NAME_TAG] == served_model.name
    assert run.data.tags[VERSION_TAG] == str(version)
    assert run.info.status == "FINISHED"
    history = c.get_metric_history(run.info.run_id, "mase")
    assert sorted(m.step for m in history) == [step_of(a) for a in as_ofs[:7]]
    by_step = {m.step: m.value for m in history}
    shifted_mase = by_step[step_of(as_ofs[6])]
    calm = [by_step[step_of(a)] for a in as_ofs[:6]]
    assert shifted_mase > 5 * max(calm)
    # The logged MASE, recomputed here: per series the mean absolute error over the 6 steps
    # divided by the mean absolute 24-hour difference of its history up to the as-of time
    # (from the actuals file), then the mean over the two series.
    forecast = pd.read_csv(tmp_path / "forecast-6.csv", parse_dates=["ds"])
    by_hand = []
    for uid, part in forecast.groupby("unique_id"):
        series = shifted[shifted["unique_id"] == uid].set_index("ds")["y"]
        before = series[series.index <= as_ofs[6]].to_numpy()
        scale = np.mean(np.abs(before[24:] - before[:-24]))
        error = np.mean(np.abs(series.loc[part["ds"]].to_numpy() - part["y_hat"].to_numpy()))
        by_hand.append(error / scale)
    assert shifted_mase == pytest.approx(np.mean(by_hand), rel=1e-9)
    assert c.get_metric_history(run.info.run_id, WINDOW)  # the rule's window, drawn over time
    files = {f.path for f in c.list_artifacts(run.info.run_id)}
    assert {"realised_error.png", "evaluations.csv"} <= files
    png = imread(c.download_artifacts(run.info.run_id, "realised_error.png", str(tmp_path)))
    assert png.shape[0] > 200 and png.shape[1] > 400
    # The expectation: the version's backtest MASE inside its bootstrap band, from its comparison.
    low, high = map(float, run.data.tags["expected.band"].split(".."))
    assert low < float(run.data.tags["expected.mase"]) < high

    # The version says so.
    tags = c.get_model_version(served_model.name, version).tags
    assert tags["drift"] == "alarm" and tags["monitoring_run_id"] == run.info.run_id
    assert tags["drift_reason"].startswith("drift alarm:")

    # Evaluating the same forecasts again logs nothing twice and keeps the verdict.
    assert _evaluate(uri, str(tmp_path / "forecast-*.csv"), actuals) == ExitStatus.DRIFT_ALARM
    again = c.get_metric_history(run.info.run_id, "mase")
    assert len(again) == len(history)
    assert len(_monitoring_runs(uri)) == 1

    # Half of the last forecast's horizon arrives: scored on what is observed, said so, and not
    # a step until complete.
    half = tmp_path / "half.csv"
    shifted[shifted["ds"] <= as_ofs[7] + pd.Timedelta(hours=3)].to_csv(half, index=False)
    capsys.readouterr()
    assert _evaluate(uri, str(tmp_path / "forecast-*.csv"), half) == ExitStatus.DRIFT_ALARM
    assert "partial (6 of 12)" in capsys.readouterr().out
    assert len(c.get_metric_history(run.info.run_id, "mase")) == len(history)


# --- bad input: one line naming the file / column / value, exit 2, nothing written ----------------


@pytest.fixture(scope="module")
def one_forecast(served_model, store, tmp_path_factory):
    folder = tmp_path_factory.mktemp("one-forecast")
    as_of = pd.Timestamp(served_model.frame["ds"].iloc[500])
    _predict(served_model, store, as_of, folder / "forecast.csv")
    return folder / "forecast.csv"


def _assert_bad_input(code: int, capsys, *named: str) -> None:
    err = capsys.readouterr().err.strip()
    assert code == ExitStatus.BAD_INPUT
    assert len(err.splitlines()) == 1 and err.startswith("error: ")
    for name in named:
        assert name in err, err


def _nothing_written(uri: str, runs_before: int) -> None:
    runs = _monitoring_runs(uri)
    assert len(runs) == runs_before
    assert all(r.info.status != "RUNNING" for r in runs)


def test_forecasts_without_lineage(served_model, store, one_forecast, tmp_path, capsys):
    bare = tmp_path / "bare.csv"
    bare.write_bytes(one_forecast.read_bytes())
    before = len(_monitoring_runs(store))
    code = _evaluate(store, str(bare), served_model.data_csv)
    _assert_bad_input(code, capsys, str(bare), "bare.csv.lineage.json")
    _nothing_written(store, before)


def test_actuals_of_another_frequency(served_model, store, one_forecast, tmp_path, capsys):
    daily = served_model.frame[served_model.frame["ds"].dt.hour == 0]
    actuals = tmp_path / "daily.csv"
    daily.to_csv(actuals, index=False)
    before = len(_monitoring_runs(store))
    code = _evaluate(store, str(one_forecast), actuals)
    _assert_bad_input(code, capsys, str(actuals), "'ds'", "'D'", "'h'")
    _nothing_written(store, before)


def test_a_model_name_that_does_not_exist(served_model, store, one_forecast, capsys):
    before = len(_monitoring_runs(store))
    code = _evaluate(store, str(one_forecast), served_model.data_csv, "--model", "no-such-model")
    _assert_bad_input(code, capsys, "--model 'no-such-model'")
    _nothing_written(store, before)


def test_a_lineage_naming_a_version_the_registry_lacks(store, one_forecast, tmp_path, capsys):
    import json

    moved = tmp_path / "forecast.csv"
    moved.write_bytes(one_forecast.read_bytes())
    lineage = json.loads(Path(f"{one_forecast}.lineage.json").read_text())
    Path(f"{moved}.lineage.json").write_text(json.dumps(lineage | {"model_version": "999"}))
    before = len(_monitoring_runs(store))
    code = _evaluate(store, str(moved), tmp_path / "unused.csv")
    _assert_bad_input(code, capsys, str(moved), "version 999")
    _nothing_written(store, before)
