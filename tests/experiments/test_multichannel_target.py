"""A multichannel target end to end through the command line: two sites, each with two target
columns (``load`` and ``temp``) and one covariate. ``forecast compare --target load,temp``
reads the four (site, column) series, trains one network that embeds each column, and
``forecast predict`` returns one row per site, column and step; cut at a backtest origin, the
served forecast equals that window's backtest forecast, column by column."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import keras
import mlflow
import numpy as np
import pandas as pd
import pytest

from forecasting.cli import main
from forecasting.data import Columns, load_series
from forecasting.packaging.folder import load_keras, read_state
from forecasting.windowing import WindowSpec, make_windows

HORIZON, LOOKBACK, POINTS = 12, 48, 360
TARGETS = ("load", "temp")
MODEL_NAME = "multichannel-forecaster"


def _panel() -> pd.DataFrame:
    rng = np.random.default_rng(5)
    t = np.arange(POINTS)
    frames = []
    for k, site in enumerate(("north", "south")):
        day = np.sin(2 * np.pi * t / 24)
        frames.append(
            pd.DataFrame(
                {
                    "site": site,
                    "when": pd.date_range("2024-03-01", periods=POINTS, freq="h"),
                    "load": 100 + 30 * k + 20 * day + rng.normal(0, 2, POINTS),
                    "temp": 10 - 5 * k + 4 * np.roll(day, 6) + rng.normal(0, 0.5, POINTS),
                    "price": 50 + rng.normal(0, 1, POINTS).cumsum(),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def _cli(args: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main(args)
    return status, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def compared(tmp_path_factory, reset_mlflow):
    root = tmp_path_factory.mktemp("multichannel")
    data_csv = root / "sites.csv"
    _panel().to_csv(data_csv, index=False)
    uri = f"sqlite:///{root / 'mlruns' / 'mlflow.db'}"
    args = ["compare", "--data", str(data_csv), "--id-col", "site", "--time-col", "when"]
    args += ["--target", ",".join(TARGETS), "--horizon", str(HORIZON)]
    args += ["--lookback", str(LOOKBACK), "--units", "8", "--max-epochs", "1"]
    args += ["--batch-size", "64", "--model-name", MODEL_NAME, "--set"]
    args += [f"mlflow.tracking_uri={uri}", "--experiment", "multichannel"]
    try:
        status, out, err = _cli(args)
    finally:
        reset_mlflow()
    assert status == 0, err
    return data_csv, uri, out


def _version(uri: str, family: str) -> str:
    client = mlflow.MlflowClient(tracking_uri=uri, registry_uri=uri)
    (found,) = [
        v
        for v in client.search_model_versions(f"name='{MODEL_NAME}'")
        if v.tags["model_family"] == family
    ]
    return found.version


def test_the_network_embeds_each_target_column_and_the_state_names_them(compared, tmp_path):
    _, uri, _ = compared
    mlflow.set_tracking_uri(uri)  # reset after each test by the suite
    folder = mlflow.artifacts.download_artifacts(
        f"models:/{MODEL_NAME}/{_version(uri, 'gru')}", dst_path=str(tmp_path)
    )
    state = read_state(folder, "gru")
    assert state.channels == TARGETS and state.columns.target == TARGETS
    assert state.covariates == ("price",)
    assert sorted(state.scalers) == ["north/load", "north/temp", "south/load", "south/temp"]
    model = load_keras(Path(folder) / "artifacts" / "model.keras")
    assert "channel" in model.input
    embedding = model.get_layer("segment_rnn").channel_embedding
    assert embedding is not None and embedding.input_dim == len(TARGETS)


def test_predict_gives_a_row_per_site_column_and_step_in_the_input_order(compared, tmp_path):
    data_csv, uri, _ = compared
    output = tmp_path / "forecast.csv"
    status, out, err = _cli(
        [
            "predict",
            "--model",
            f"models:/{MODEL_NAME}/{_version(uri, 'gru')}",
            "--data",
            str(data_csv),
            "--output",
            str(output),
            "--tracking-uri",
            uri,
        ]
    )
    assert status == 0, err
    forecast = pd.read_csv(output, parse_dates=["when"])
    assert list(forecast.columns[:4]) == ["site", "target", "when", "y_hat"]
    keys = forecast[["site", "target"]].drop_duplicates().apply(tuple, axis=1).tolist()
    assert keys == [("north", "load"), ("north", "temp"), ("south", "load"), ("south", "temp")]
    last = pd.Timestamp("2024-03-01") + pd.Timedelta(hours=POINTS - 1)
    for _, rows in forecast.groupby(["site", "target"]):
        assert rows["when"].tolist() == list(pd.date_range(last, periods=HORIZON + 1, freq="h")[1:])
    # Each column is forecast on its own scale: the two columns of a site are far apart.
    means = forecast.groupby(["site", "target"])["y_hat"].mean()
    assert abs(means[("north", "load")] - 100) < 30 and abs(means[("north", "temp")] - 10) < 8


def test_the_served_forecast_at_a_backtest_origin_equals_the_backtest_column_by_column(
    compared, tmp_path
):
    """The packaged model, fed the history cut at an origin, returns the forecast the Keras
    model gives that origin's window (cut by training's own `make_windows`)."""
    data_csv, uri, _ = compared
    version = _version(uri, "gru")
    mlflow.set_tracking_uri(uri)
    folder = mlflow.artifacts.download_artifacts(
        f"models:/{MODEL_NAME}/{version}", dst_path=str(tmp_path / "model")
    )
    state = read_state(folder, "gru")
    model = load_keras(Path(folder) / "artifacts" / "model.keras")
    columns = Columns("site", "when", TARGETS, ("price",))
    data = load_series(str(data_csv), columns, freq="h")
    windowed = make_windows(data, WindowSpec(lookback=LOOKBACK, horizon=HORIZON))
    test = windowed.splits["test"]
    origin = int(test.origin.max())
    rows = np.flatnonzero(test.origin == origin)
    expected = windowed.inverse(
        np.asarray(model({k: v[rows] for k, v in test.inputs.items()}, training=False)),
        test.series[rows],
    )
    as_of = windowed.series[0].times[origin]
    output = tmp_path / "cut.csv"
    status, _, err = _cli(
        ["predict", "--model", f"models:/{MODEL_NAME}/{version}", "--data", str(data_csv)]
        + ["--as-of", str(as_of), "--output", str(output), "--tracking-uri", uri]
    )
    assert status == 0, err
    served = pd.read_csv(output)
    for row, series in zip(expected, test.series[rows], strict=True):
        site, target = windowed.ids[series].split("/")
        mine = served[(served["site"] == site) & (served["target"] == target)]["y_hat"]
        np.testing.assert_allclose(mine.to_numpy(), row, rtol=1e-4, atol=1e-4)
    assert state.channels == tuple(windowed.channels)
    keras.backend.clear_session()


def test_a_missing_target_column_is_one_line_and_exit_2(tmp_path):
    data_csv = tmp_path / "sites.csv"
    _panel().drop(columns="temp").to_csv(data_csv, index=False)
    status, _, err = _cli(
        ["compare", "--data", str(data_csv), "--id-col", "site", "--time-col", "when"]
        + ["--target", "load,temp", "--horizon", str(HORIZON)]
        + ["--set", f"mlflow.tracking_uri=sqlite:///{tmp_path / 'mlflow.db'}"]
    )
    assert status == 2
    assert err.strip().count("\n") == 0 and "missing target column 'temp'" in err, err
    assert not (tmp_path / "mlflow.db").exists(), "bad input stops before the store"


def test_evaluate_scores_each_column_of_a_past_forecast_against_its_actuals(compared, tmp_path):
    """``forecast evaluate`` joins a multichannel forecast with the actuals column by column:
    its MAE is the mean over the (site, column) series of each one's mean absolute error."""
    data_csv, uri, _ = compared
    version = _version(uri, "gru")
    history = pd.read_csv(data_csv, parse_dates=["when"])
    as_of = history["when"].max() - pd.Timedelta(hours=HORIZON)
    output = tmp_path / "past.csv"
    status, _, err = _cli(
        ["predict", "--model", f"models:/{MODEL_NAME}/{version}", "--data", str(data_csv)]
        + ["--as-of", str(as_of), "--output", str(output), "--tracking-uri", uri]
    )
    assert status == 0, err
    forecast = pd.read_csv(output, parse_dates=["when"])
    actual = history.melt(["site", "when"], list(TARGETS), var_name="target", value_name="y")
    joined = forecast.merge(actual, on=["site", "target", "when"])
    assert len(joined) == len(forecast) == 4 * HORIZON
    expected = (joined["y_hat"] - joined["y"]).abs().groupby([joined.site, joined.target]).mean()
    status, out, err = _cli(
        ["evaluate", "--forecasts", str(output), "--actuals", str(data_csv)]
        + ["--model", MODEL_NAME, "--tracking-uri", uri]
    )
    assert status == 0, err
    (line,) = [x for x in out.splitlines() if "past.csv" in x]
    assert "complete" in line and f"MAE {expected.mean():.3f}" in line, out


@pytest.mark.slow
def test_the_spark_engine_writes_the_same_multichannel_file_as_the_local_engine(compared, tmp_path):
    from forecasting.serving.batch import predict_batch

    data_csv, uri, _ = compared
    model = f"models:/{MODEL_NAME}/{_version(uri, 'gru')}"
    local = predict_batch(model, data_csv, tmp_path / "local.parquet", tracking_uri=uri)
    spark = predict_batch(
        model, data_csv, tmp_path / "spark.parquet", engine="spark", tracking_uri=uri
    )
    assert list(spark.forecast.columns[:3]) == ["site", "target", "when"]
    assert len(spark.forecast) == 4 * HORIZON
    assert (tmp_path / "spark.parquet").read_bytes() == (tmp_path / "local.parquet").read_bytes()
    assert local.forecast["target"].tolist() == spark.forecast["target"].tolist()


def test_diagnose_reads_a_multichannel_model_on_its_own_windows(compared, tmp_path):
    data_csv, uri, _ = compared
    output = tmp_path / "diagnosis"
    status, out, err = _cli(
        ["diagnose", "--model", f"models:/{MODEL_NAME}/{_version(uri, 'gru')}"]
        + ["--data", str(data_csv), "--output", str(output), "--tracking-uri", uri]
        + ["--probe-epochs", "1"]
    )
    assert status == 0, err
    assert any(output.glob("*.png")), out
