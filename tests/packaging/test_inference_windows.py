"""Serving's windows are training's windows: the history cut at a backtest origin (as
`forecast predict --as-of` cuts it) and windowed by `windowing.inference.latest_windows` gives
exactly the past and future arrays `make_windows` cut for that origin, covariate included."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecasting.data import Columns, load_series
from forecasting.packaging import PackagedState
from forecasting.packaging.history import prepare_history
from forecasting.windowing import WindowSpec, make_windows
from forecasting.windowing.inference import latest_windows

LOOKBACK, HORIZON = 24, 6


@pytest.fixture
def trained_windows(synthetic_panel, tmp_path):
    """Raw history with one covariate, its training windows, and the state as a packaged model reads it."""
    raw = synthetic_panel(2, 24 * 12, covariates=1, seed=4)
    raw["x0"] = 30.0 + 4.0 * raw["x0"]  # a covariate at its own level and scale
    data = load_series(raw, Columns())
    windowed = make_windows(data, WindowSpec(lookback=LOOKBACK, horizon=HORIZON, n_folds=2))
    saved = PackagedState.from_training(data, windowed, "gru", "custom").save(
        tmp_path / "preprocessing.json"
    )
    return raw, windowed, PackagedState.load(saved)


def test_latest_window_at_each_backtest_origin_is_the_training_window(trained_windows):
    raw, windowed, state = trained_windows
    test = windowed.splits["test"]
    assert windowed.covariates == ["x0"] and len(test) >= 2 * 2
    target_times = windowed.target_times(test)
    for window in range(len(test)):
        series = windowed.series[test.series[window]]
        as_of = series.times[test.origin[window]]
        history = prepare_history(
            raw[raw["unique_id"] == series.uid], state, "history.csv", pd.Timestamp(as_of)
        )
        latest = latest_windows(history.data, state.lookback, state.horizon, state.fitted_scalers())
        assert latest.ids == [series.uid]
        np.testing.assert_array_equal(latest.inputs["past"][0], test.past[window])  # [L, 1 + C + K]
        np.testing.assert_array_equal(latest.inputs["future"][0], test.future[window])  # [H, K]
        assert list(latest.future_times[0]) == list(pd.DatetimeIndex(target_times[window]))


def test_a_cut_between_origins_sees_no_later_point(trained_windows):
    raw, windowed, state = trained_windows
    series = windowed.series[0]
    origin = int(windowed.splits["test"].origin[0])
    as_of = series.times[origin] + pd.Timedelta(minutes=30)  # between two hourly points
    history = prepare_history(raw, state, "history.csv", as_of)
    latest = latest_windows(history.data, state.lookback, state.horizon, state.fitted_scalers())
    np.testing.assert_array_equal(latest.inputs["past"][0], windowed.splits["test"].past[0])
