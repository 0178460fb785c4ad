"""M4 metrics and naive baselines on tiny hand-computed cases, and undefined metrics
reported by name instead of averaged in as NaN."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest

from forecasting.data import Columns, load_series
from forecasting.evaluation.backtest import baseline_backtest
from forecasting.evaluation.metrics import (
    aggregate,
    mase_scale,
    per_series,
    point_metrics,
    smape,
    window_scaled_errors,
)
from forecasting.models.baselines import naive, seasonal_naive, seasonal_period
from forecasting.windowing import WindowSpec, make_windows

# --- definitions -------------------------------------------------------------------------


def test_smape_by_hand():
    # 200|y - ŷ| / (|y| + |ŷ|) per step: 200·1/3, 0, 200·2/4 -> mean 500/9.
    assert smape(np.array([1.0, 2.0, 3.0]), np.array([2.0, 2.0, 1.0])) == pytest.approx(500 / 9)
    # M4 scale is percent in [0, 200]: forecasting 0 for a positive value costs the maximum.
    assert smape(np.array([4.0]), np.array([0.0])) == pytest.approx(200.0)
    assert smape(np.array([-2.0]), np.array([2.0])) == pytest.approx(200.0)


def test_mase_scale_by_hand():
    insample = np.array([1.0, 3.0, 2.0, 5.0, 4.0])
    # m = 1: |3-1|, |2-3|, |5-2|, |4-5| = 2, 1, 3, 1 -> 7/4
    assert mase_scale(insample, 1) == pytest.approx(1.75)
    # m = 2: |2-1|, |5-3|, |4-2| = 1, 2, 2 -> 5/3
    assert mase_scale(insample, 2) == pytest.approx(5 / 3)
    # NaNs (gaps kept by the drop policy) are ignored: |3-1|, |5-3| -> 2
    assert mase_scale(np.array([1.0, np.nan, 3.0, 5.0]), 1) == pytest.approx(2.0)


def test_point_metrics_by_hand():
    y, y_hat = np.array([4.0, 6.0]), np.array([3.0, 8.0])
    m = point_metrics(y, y_hat, scale=1.5)
    assert m["mae"] == pytest.approx(1.5)  # (1 + 2) / 2
    assert m["rmse"] == pytest.approx(np.sqrt(2.5))  # sqrt((1 + 4) / 2)
    assert m["smape"] == pytest.approx(200 / 7)  # 200·1/7 and 200·2/14
    assert m["mase"] == pytest.approx(1.0)  # 1.5 / 1.5


def test_window_scaled_errors_by_hand():
    y = np.array([[1.0, 2.0], [3.0, 4.0]])
    y_hat = np.array([[2.0, 2.0], [3.0, 6.0]])
    # window MAEs 0.5 and 1.0, divided by their own series' scale 0.5 and 2.0
    got = window_scaled_errors(y, y_hat, np.array([0, 1]), np.array([0.5, 2.0]))
    np.testing.assert_allclose(got, [1.0, 0.5])


# --- undefined metrics ---------------------------------------------------------------------


def test_constant_series_has_no_mase_scale():
    assert np.isnan(mase_scale(np.full(10, 7.0), 1))
    assert np.isnan(mase_scale(np.array([1.0, 2.0]), 2)), "no seasonal difference at all"
    assert np.isnan(point_metrics(np.array([7.0]), np.array([6.0]), float("nan"))["mase"])


def test_smape_undefined_on_zeros():
    assert np.isnan(smape(np.array([0.0, 1.0]), np.array([0.0, 1.0])))


def test_aggregate_names_undefined_series_and_averages_the_rest(caplog):
    table = per_series(
        ["a", "flat", "b"],
        np.array([0, 1, 2]),
        np.array([[4.0, 6.0], [5.0, 5.0], [1.0, 1.0]]),
        np.array([[3.0, 8.0], [5.0, 5.0], [2.0, 2.0]]),
        np.array([1.5, np.nan, 0.5]),
    )
    with caplog.at_level(logging.WARNING):
        summary, undefined = aggregate(table, "lstm")
    assert undefined == {"mase": ["flat"]}
    assert summary["mase"] == pytest.approx((1.0 + 2.0) / 2), (
        "mean over the series where it is defined"
    )
    assert summary["mae"] == pytest.approx((1.5 + 0.0 + 1.0) / 3)
    assert "lstm: mase is undefined for series ['flat']" in caplog.text


def _frame(values: dict[str, np.ndarray]) -> pd.DataFrame:
    parts = []
    for uid, y in values.items():
        times = pd.date_range("2024-01-01", periods=len(y), freq="h")
        parts.append(pd.DataFrame({"unique_id": uid, "ds": times, "y": y}))
    return pd.concat(parts, ignore_index=True)


def _windows(values: dict[str, np.ndarray], lookback: int = 24, horizon: int = 6):
    data = load_series(_frame(values), Columns(), name="test frame")
    assert data.freq == "h"
    return make_windows(data, WindowSpec(lookback=lookback, horizon=horizon, n_folds=2))


def test_backtest_reports_undefined_metrics_by_series(caplog):
    t = np.arange(240)
    windowed = _windows(
        {
            "wave": 10.0 + np.sin(2 * np.pi * t / 24) + 0.01 * t,
            "flat": np.full(240, 5.0),
            "zeros": np.zeros(240),
        }
    )
    with caplog.at_level(logging.WARNING):
        bt = baseline_backtest("seasonal_naive", windowed, 24)
    assert bt.undefined == {"smape": ["zeros"], "mase": ["flat", "zeros"]}
    assert bt.per_series.loc["flat", "smape"] == 0.0  # 5 forecast for 5: defined and perfect
    assert bt.summary["mase"] == pytest.approx(bt.per_series.loc["wave", "mase"])
    assert bt.summary["smape"] == pytest.approx(bt.per_series.loc[["wave", "flat"], "smape"].mean())
    assert "mase is undefined for series ['flat', 'zeros']" in caplog.text
    assert "smape is undefined for series ['zeros']" in caplog.text


# --- baselines -----------------------------------------------------------------------------


def test_naive_and_seasonal_naive_by_hand():
    values = np.arange(10.0, 18.0)  # index i holds 10 + i
    origins = np.array([5])  # last observed value 15
    np.testing.assert_array_equal(naive(values, origins, 3), [[15, 15, 15]])
    # m = 2: steps 1, 2, 3 take indices 5+1-2, 5+2-2, 5+3-4 = 4, 5, 4
    np.testing.assert_array_equal(seasonal_naive(values, origins, 3, 2), [[14, 15, 14]])
    # m = 3, H = 5: indices 3, 4, 5, then the same season again 3, 4
    np.testing.assert_array_equal(seasonal_naive(values, origins, 5, 3), [[13, 14, 15, 13, 14]])
    # several origins at once
    np.testing.assert_array_equal(
        seasonal_naive(values, np.array([2, 6]), 2, 2), [[11, 12], [15, 16]]
    )


def test_seasonal_naive_without_a_full_season_before_the_origin_repeats_the_last_value():
    # Origin 2 has 3 observed steps, fewer than the season of 4: it gets the naive forecast
    # (y[2] = 2 twice); origin 5 has a full season: steps 1, 2 take y[2], y[3].
    out = seasonal_naive(np.arange(10.0), np.array([2, 5]), 2, 4)
    np.testing.assert_array_equal(out, [[2.0, 2.0], [2.0, 3.0]])


def test_baseline_backtest_indexes_the_windows_of_the_data():
    # A daily sine on a trend: the seasonal-naive error is exactly one day of trend at every
    # step, and so is the in-sample seasonal difference, so its MASE is exactly 1. Any
    # off-by-one in the indexing would add part of the sine to the error.
    t = np.arange(300)
    y = 50.0 + 5.0 * np.sin(2 * np.pi * t / 24) + 0.1 * t
    windowed = _windows({"a": y, "b": 2 * y})
    test = windowed.splits["test"]
    snaive = baseline_backtest("seasonal_naive", windowed, 24)
    np.testing.assert_allclose(snaive.per_series["mase"], 1.0, rtol=1e-9)
    np.testing.assert_allclose(snaive.window_errors, 1.0, rtol=1e-9)
    last = windowed.history(test)[:, -1]
    naive_bt = baseline_backtest("naive", windowed, 24)
    np.testing.assert_allclose(naive_bt.forecasts, np.repeat(last[:, None], 6, axis=1))
    np.testing.assert_allclose(last, np.where(test.series == 0, 1, 2) * y[test.origin])


@pytest.mark.parametrize(
    ("freq", "period"),
    [
        ("h", 24),
        ("D", 7),
        ("15min", 96),
        ("MS", 12),
        ("30min", 48),
        ("QS", 4),
        ("W", 52),
        ("W-MON", 52),
        ("B", 5),
        ("BMS", 12),
        ("YE", 1),
    ],
)
def test_seasonal_period(freq, period):
    assert seasonal_period(freq) == period


def test_seasonal_naive_backtest_says_which_windows_had_no_full_season(caplog):
    # A season longer than the history before most test origins (weekly season on a short
    # hourly series): those windows get the last value, nothing crashes, and the log says so.
    t = np.arange(300)
    windowed = _windows({"a": 50.0 + 0.1 * t + np.sin(t)}, lookback=4)
    test = windowed.splits["test"]
    period = 280
    with caplog.at_level(logging.INFO):
        snaive = baseline_backtest("seasonal_naive", windowed, period)
    short = test.origin + 1 < period
    assert short.any() and not short.all()
    np.testing.assert_array_equal(
        snaive.forecasts[short], baseline_backtest("naive", windowed, period).forecasts[short]
    )
    assert (
        f"seasonal naive: {short.sum()} of {len(test.origin)} windows have less than one season "
        f"({period} steps) before their origin and repeat the last value instead" in caplog.text
    )
