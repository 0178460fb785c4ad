"""End to end through the real command line: a series too short to train on is left out of the
comparison (said in the summary, counted and listed in MLflow), forecast by the best baseline at
prediction time (its rows say so and hold the baseline's values, computed here by hand), and
``--strict`` refuses the same data in one line before any run starts.

The panel: three hourly series of 400 points and ``tiny`` of 40. With lookback 48, horizon 12
and three backtest folds a series needs 108 points (36 test, 12 validation, 60 for the first
window), so ``tiny`` is left out of training; with fewer points than the lookback it is also
one the packaged model's fallback forecasts.
"""

from __future__ import annotations

import contextlib
import io
from dataclasses import dataclass
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
from mlflow.entities import RunStatus, ViewType

from forecasting.cli import main

LENGTHS = {"alpha": 400, "beta": 400, "gamma": 400, "tiny": 40}
LOOKBACK, HORIZON, PERIOD = 48, 12, 24
NEED = 108
EXPERIMENT, MODEL_NAME = "left-out-series-e2e", "left-out-series-forecaster"
FAMILIES = ("gru", "lstm")


@dataclass(frozen=True)
class Compared:
    data_csv: Path
    tracking_uri: str
    status: int
    out: str
    err: str
    root: Path

    def client(self) -> mlflow.MlflowClient:
        return mlflow.MlflowClient(tracking_uri=self.tracking_uri, registry_uri=self.tracking_uri)


def _compare_args(data_csv: Path, uri: str, *extra: str) -> list[str]:
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
        *extra,
    ]


def _run_cli(args: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main(args)
    return status, out.getvalue(), err.getvalue()


def _all_runs(client: mlflow.MlflowClient) -> list:
    experiments = client.search_experiments(view_type=ViewType.ALL)
    return client.search_runs([e.experiment_id for e in experiments], run_view_type=ViewType.ALL)


@pytest.fixture(scope="module")
def compared(tmp_path_factory, synthetic_panel, reset_mlflow) -> Compared:
    root = tmp_path_factory.mktemp("left-out")
    data_csv = root / "history.csv"
    synthetic_panel(LENGTHS, seed=11).to_csv(data_csv, index=False)
    uri = f"sqlite:///{root / 'store' / 'mlflow.db'}"
    try:
        status, out, err = _run_cli(_compare_args(data_csv, uri))
    finally:
        reset_mlflow()
    return Compared(data_csv, uri, status, out, err, root)


@pytest.fixture(scope="module")
def parent(compared):
    assert compared.status == 0, compared.err
    client = compared.client()
    experiment = client.get_experiment_by_name(EXPERIMENT)
    runs = client.search_runs([experiment.experiment_id], "tags.role = 'comparison'")
    assert len(runs) == 1
    return runs[0]


@pytest.fixture(scope="module")
def left_out_table(compared, parent, tmp_path_factory) -> pd.DataFrame:
    path = compared.client().download_artifacts(
        parent.info.run_id, "left_out_series.csv", str(tmp_path_factory.mktemp("artifacts"))
    )
    return pd.read_csv(path)


def test_compare_succeeds_and_the_summary_names_the_series_and_its_baseline(
    compared, left_out_table
):
    assert compared.status == 0, compared.err
    baseline = left_out_table["forecaster"].iloc[0]
    assert baseline in ("seasonal_naive", "naive")
    mase = left_out_table["backtest_mase"].iloc[0]
    smape = left_out_table["backtest_smape"].iloc[0]
    line = (
        f"Left out of training: 1 series (too short for the lookback: tiny); "
        f"{baseline.replace('_', ' ')} forecasts them (backtest MASE {mase:.3f}, "
        f"SMAPE {smape:.3f} on 1 of 1)."
    )
    assert line in compared.out.splitlines(), compared.out


def test_the_parent_run_counts_and_lists_the_left_out_series(parent, left_out_table):
    assert parent.info.status == RunStatus.to_string(RunStatus.FINISHED)
    params = parent.data.params
    assert params["data.n_left_out"] == "1"
    assert params["data.n_series"] == "3", "the models train on the three long series"
    assert params["windows.train"] == str(3 * (280 - LOOKBACK - HORIZON + 1)), "no window of 'tiny'"
    assert list(left_out_table.columns) == [
        "series",
        "points",
        "reason",
        "forecaster",
        "backtest_origins",
        "backtest_mae",
        "backtest_rmse",
        "backtest_smape",
        "backtest_mase",
    ]
    assert left_out_table["series"].tolist() == ["tiny"]
    assert left_out_table["points"].tolist() == [40]
    assert left_out_table["reason"].iloc[0] == (
        f"40 points, fewer than the {NEED} that lookback {LOOKBACK}, horizon {HORIZON}, validation and "
        "backtest need"
    )


def test_the_best_baseline_named_is_the_one_with_the_lower_backtest_error(parent, left_out_table):
    metrics = parent.data.metrics
    best = min(("seasonal_naive", "naive"), key=lambda k: metrics[f"{k}_mase"])
    assert left_out_table["forecaster"].tolist() == [best]


def test_the_left_out_series_is_backtested_by_its_baseline_on_its_own_last_points(
    compared, parent, left_out_table
):
    """By hand: ``tiny`` (40 points) is backtested at origins 3, 15 and 27 (three folds of
    H = 12 held out from its end); its 4 points before the first origin are under a season, so
    its MASE scale is the mean absolute one-step difference of those 4 points."""
    y = pd.read_csv(compared.data_csv).query("unique_id == 'tiny'")["y"].to_numpy(float)
    baseline = left_out_table["forecaster"].iloc[0]
    actual, forecast = [], []
    for origin in (3, 15, 27):
        actual.append(y[origin + 1 : origin + 1 + HORIZON])
        if baseline == "naive" or origin + 1 < PERIOD:  # less than a season: the last value
            forecast.append(np.full(HORIZON, y[origin]))
        else:
            forecast.append(_expected_baseline(y[: origin + 1], baseline))
    actual, forecast = np.concatenate(actual), np.concatenate(forecast)
    mae = np.mean(np.abs(actual - forecast))
    scale = np.mean(np.abs(np.diff(y[:4])))
    row = left_out_table.iloc[0]
    assert row["backtest_origins"] == 3
    assert row["backtest_mae"] == pytest.approx(mae, rel=1e-9)
    assert row["backtest_mase"] == pytest.approx(mae / scale, rel=1e-9)
    assert parent.data.metrics["left_out_mase"] == pytest.approx(mae / scale, rel=1e-9)
    assert parent.data.metrics["left_out_series_backtested"] == 1


def _expected_baseline(y: np.ndarray, baseline: str) -> np.ndarray:
    """By hand: seasonal naive's step h (1..H) is y[T - m + (h - 1) mod m]; naive repeats y[T - 1]."""
    T = len(y)
    if baseline == "seasonal_naive":
        return np.array([y[T - PERIOD + (h - 1) % PERIOD] for h in range(1, HORIZON + 1)])
    return np.full(HORIZON, y[-1])


def test_predict_forecasts_the_short_series_with_the_baseline_and_the_rest_with_the_network(
    compared, left_out_table, tmp_path, assert_nested_intervals
):
    output = tmp_path / "out.csv"
    # The GRU's version (the champion may be the best baseline when no network beat it).
    (gru,) = [
        v
        for v in compared.client().search_model_versions(f"name='{MODEL_NAME}'")
        if v.tags["model_family"] == "gru"
    ]
    status, out, err = _run_cli(
        [
            "predict",
            "--model",
            f"models:/{MODEL_NAME}/{gru.version}",
            "--data",
            str(compared.data_csv),
            "--output",
            str(output),
            "--tracking-uri",
            compared.tracking_uri,
        ]
    )
    assert status == 0, err
    assert f"wrote {4 * HORIZON} forecasts (4 series x {HORIZON} steps)" in out

    forecast = pd.read_csv(output, parse_dates=["ds"])
    history = pd.read_csv(compared.data_csv, parse_dates=["ds"])
    assert list(forecast.columns) == [
        "unique_id",
        "ds",
        "y_hat",
        "y_hat_lo_80",
        "y_hat_hi_80",
        "y_hat_lo_95",
        "y_hat_hi_95",
        "forecaster",
    ]
    # Every row has its intervals, the fallback's too: nested around the forecast.
    assert forecast.notna().all().all()
    assert_nested_intervals(forecast)
    champion = "gru"
    baseline = left_out_table["forecaster"].iloc[0]
    for uid, n in LENGTHS.items():
        rows = forecast[forecast["unique_id"] == uid]
        past = history[history["unique_id"] == uid]
        assert len(past) == n and len(rows) == HORIZON, uid
        last = past["ds"].max()
        assert rows["ds"].tolist() == [
            last + pd.Timedelta(hours=h) for h in range(1, HORIZON + 1)
        ], uid
        assert rows["y_hat"].notna().all(), uid
        if uid == "tiny":
            assert rows["forecaster"].tolist() == [baseline] * HORIZON
            expected = _expected_baseline(past["y"].to_numpy(), baseline)
            np.testing.assert_allclose(rows["y_hat"].to_numpy(), expected, rtol=0, atol=1e-9)
        else:
            assert rows["forecaster"].tolist() == [champion] * HORIZON, uid


def test_strict_refuses_the_same_data_in_one_line_and_leaves_no_run_running(compared, parent):
    client = compared.client()
    before = {r.info.run_id for r in _all_runs(client)}
    status, out, err = _run_cli(_compare_args(compared.data_csv, compared.tracking_uri, "--strict"))
    assert status == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("error: ") and "Traceback" not in err
    for fragment in (
        "column 'y'",
        f"1 of 4 series have fewer than {NEED} points",
        "--strict refuses any: 'tiny'",
        "shortest 'tiny' has 40 points",
    ):
        assert fragment in lines[0], lines[0]
    assert str(compared.data_csv) in lines[0]
    assert out == ""
    runs = _all_runs(client)
    assert {r.info.run_id for r in runs} == before, "the refusal starts no run"
    assert [r.info.run_id for r in runs if r.info.status == "RUNNING"] == []


def test_a_left_out_series_is_forecast_by_the_baseline_even_with_a_lookback_of_history(
    compared, left_out_table, synthetic_panel, tmp_path
):
    """The README: a series left out of training is forecast by the comparison's best baseline at
    prediction time (and the state lists it in ``left_out``). Here 'tiny' has 60 points, more
    than the lookback (48) but fewer than training needs (108), as a series of 60 points in the
    training file would have."""
    grown = synthetic_panel(LENGTHS | {"tiny": 60}, seed=11)
    data_csv = tmp_path / "grown.csv"
    grown.to_csv(data_csv, index=False)
    output = tmp_path / "out.csv"
    status, _, err = _run_cli(
        [
            "predict",
            "--model",
            f"models:/{MODEL_NAME}@champion",
            "--data",
            str(data_csv),
            "--output",
            str(output),
            "--tracking-uri",
            compared.tracking_uri,
        ]
    )
    assert status == 0, err
    forecast = pd.read_csv(output)
    baseline = left_out_table["forecaster"].iloc[0]
    assert (
        forecast.loc[forecast["unique_id"] == "tiny", "forecaster"].tolist() == [baseline] * HORIZON
    )
