"""The baseline backtest of left-out series: origins, hand-computed errors, too-short series."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecasting.data import load_series
from forecasting.evaluation.left_out import backtest_origins, left_out_backtest


@pytest.mark.parametrize(
    ("n", "horizon", "folds", "expected"),
    [
        (40, 12, 3, [3, 15, 27]),
        (40, 12, 5, [3, 15, 27]),  # a fourth origin would leave no observed point
        (13, 12, 3, [0]),
        (12, 12, 3, []),  # nothing observed before the held-out points
    ],
)
def test_origins_hold_out_the_last_horizons_oldest_first(n, horizon, folds, expected):
    assert backtest_origins(n, horizon, folds).tolist() == expected


def _data(lengths: dict[str, int]):
    rng = np.random.default_rng(3)
    frames = [
        pd.DataFrame(
            {
                "unique_id": uid,
                "ds": pd.date_range("2024-01-01", periods=n, freq="D"),
                "y": 10 + rng.normal(size=n).cumsum(),
            }
        )
        for uid, n in lengths.items()
    ]
    return load_series(pd.concat(frames), freq="D")


def test_errors_are_those_of_the_naive_forecast_from_each_origin():
    data = _data({"a": 30, "b": 5})
    series = {uid: data.series(uid)["y"].to_numpy() for uid in ("a", "b")}
    table, summary = left_out_backtest(series, "naive", horizon=7, period=7, folds=2)
    y = series["a"]
    # origins 15 and 22; in-sample y[:16] is over a season: seasonal differences of lag 7
    err = np.concatenate([y[16:23] - y[15], y[23:30] - y[22]])
    scale = np.mean(np.abs(y[7:16] - y[:9]))
    assert table.loc["a", "origins"] == 2
    assert table.loc["a", "mae"] == pytest.approx(np.mean(np.abs(err)))
    assert table.loc["a", "mase"] == pytest.approx(np.mean(np.abs(err)) / scale)
    assert table.loc["b", "origins"] == 0 and np.isnan(table.loc["b", "mase"])
    assert summary["mase"] == pytest.approx(table.loc["a", "mase"]), "b is not averaged in"
