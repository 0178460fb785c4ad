"""The served forecast is the backtest's forecast: `forecast predict --as-of` a backtest origin
returns, for every series, the forecast the comparison scored for that window.

Serving builds its windows apart from training (`windowing.inference` vs `make_windows`), reads
the packaged state back from JSON and reloads the Keras model, so this ties the two paths
together on values, with a covariate in the data. A model saved before the state had a format
version serves the same numbers; an unknown format version is one line and exit status 2.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest

from forecasting.cli import main
from forecasting.experiments.compare import prepare
from forecasting.packaging import Y_HAT
from forecasting.packaging.layout import STATE_FILE
from forecasting.serving.batch import predict_batch

NAME = "served-vs-backtest"
LOOKBACK, HORIZON = 24, 6
RTOL = 1e-5  # they agree exactly on this CPU, though the backtest and the pyfunc batch differently

# The entry file a model logged before `forecasting.packaging` existed carries inside it.
OLD_ENTRY = '''"""MLflow "model from code" entry: MLflow runs this file to obtain the packaged forecaster."""

import mlflow

from forecasting.tracking.pyfunc_model import ForecasterModel

mlflow.models.set_model(ForecasterModel())
'''


@dataclass(frozen=True)
class Trained:
    comparison: object  # tests/conftest.py TinyComparison
    windowed: object  # forecasting.windowing.WindowedData, the comparison's windows

    @property
    def uri(self) -> str:
        return self.comparison.tracking_uri

    def model_uri(self, family: str) -> str:
        return f"models:/{NAME}/{self.comparison.result.families[family].version}"

    def backtest(self, family: str) -> np.ndarray:
        return self.comparison.result.families[family].backtest.forecasts  # [N, H] original scale


@pytest.fixture(scope="module")
def trained(tmp_path_factory, synthetic_panel, run_tiny_comparison) -> Trained:
    frame = synthetic_panel(["s0", "s1"], 400, seed=5)
    rng = np.random.default_rng(11)
    frame["promo"] = 50.0 + 10.0 * rng.normal(
        size=len(frame)
    )  # a covariate at its own level and scale
    # No skip connection: with the seasonal skip a one-epoch model's forecast is nearly the
    # seasonal naive one, which no scaler or covariate affects; without it, fitting the scalers
    # on the served history instead of the packaged ones moves the forecast by ~1e-3 relative.
    ran = run_tiny_comparison(
        tmp_path_factory.mktemp(NAME), frame, NAME, NAME, LOOKBACK, HORIZON, skip="none"
    )
    windowed = prepare(
        ran.config
    ).windowed  # the same (deterministic) windows the comparison backtested
    assert windowed.covariates == ["promo"]
    return Trained(ran, windowed)


def _origins(trained: Trained) -> list[int]:
    """The first and the last backtest origin (both series have the same times)."""
    origins = np.unique(trained.windowed.splits["test"].origin)
    return [int(origins[0]), int(origins[-1])]


def _served(trained: Trained, model_uri: str, origin: int, output: Path) -> pd.DataFrame:
    as_of = trained.windowed.series[0].times[origin]
    result = predict_batch(
        model_uri,
        trained.comparison.data_csv,
        output,
        as_of=as_of.isoformat(),
        tracking_uri=trained.uri,
    )
    return result.forecast


def _assert_equals_backtest(
    trained: Trained, family: str, origin: int, forecast: pd.DataFrame
) -> None:
    test = trained.windowed.splits["test"]
    times = trained.windowed.target_times(test)
    for index, uid in enumerate(trained.windowed.ids):
        (window,) = np.flatnonzero((test.series == index) & (test.origin == origin))
        got = forecast[forecast["unique_id"] == uid]
        assert list(got["ds"]) == list(pd.DatetimeIndex(times[window])), uid
        np.testing.assert_allclose(
            got[Y_HAT].to_numpy(),
            trained.backtest(family)[window],
            rtol=RTOL,
            err_msg=f"{family}, series {uid}, origin {origin}",
        )


@pytest.mark.parametrize("family", ["lstm", "gru"])
def test_forecast_as_of_a_backtest_origin_is_that_windows_backtest_forecast(
    trained, family, tmp_path
):
    for origin in _origins(trained):
        forecast = _served(trained, trained.model_uri(family), origin, tmp_path / f"{origin}.csv")
        assert len(forecast) == len(trained.windowed.ids) * HORIZON
        _assert_equals_backtest(trained, family, origin, forecast)


def _downloaded(trained: Trained, family: str, folder: Path) -> Path:
    mlflow.set_tracking_uri(trained.uri)
    try:
        path = mlflow.artifacts.download_artifacts(
            artifact_uri=trained.model_uri(family), dst_path=str(folder)
        )
    finally:
        mlflow.set_tracking_uri(None)
    return Path(path)


def _entry_file(model_dir: Path) -> Path:
    conf = mlflow.models.Model.load(str(model_dir / "MLmodel")).flavors["python_function"]
    return model_dir / Path(conf["model_code_path"]).name


def test_a_model_saved_before_the_format_had_a_version_serves_the_same_forecast(trained, tmp_path):
    model_dir = _downloaded(trained, "gru", tmp_path / "model")
    state_path = model_dir / "artifacts" / STATE_FILE
    state = json.loads(state_path.read_text())
    assert state.pop("format_version") == 4
    # added by versions 2, 3 and 4
    for field in ("arch", "period", "fallback", "left_out", "intervals", "channels"):
        del state[field]
    state["columns"]["covariates"] = None  # as the first format wrote it: the configured covariates
    state_path.write_text(json.dumps(state, indent=1))
    _entry_file(model_dir).write_text(OLD_ENTRY)

    origin = _origins(trained)[-1]
    forecast = _served(trained, str(model_dir), origin, tmp_path / "old.csv")
    _assert_equals_backtest(trained, "gru", origin, forecast)


def test_an_unknown_format_version_is_one_line_and_exit_2(trained, tmp_path, capsys):
    model_dir = _downloaded(trained, "lstm", tmp_path / "model")
    newer = tmp_path / "newer-model"
    shutil.copytree(model_dir, newer)
    state_path = newer / "artifacts" / STATE_FILE
    state_path.write_text(json.dumps(json.loads(state_path.read_text()) | {"format_version": 99}))
    output = tmp_path / "out" / "forecast.csv"
    code = main(
        [
            "predict",
            "--model",
            str(newer),
            "--data",
            str(trained.comparison.data_csv),
            "--output",
            str(output),
            "--tracking-uri",
            trained.uri,
        ]
    )
    err = capsys.readouterr().err
    assert code == 2
    assert err.strip().splitlines() == [err.strip()], err
    assert "packaged-model format version 99" in err and "reads format version 1" in err, err
    assert not output.exists()
