"""The parent run's first chart: backtest MASE per model and baseline with bootstrap intervals."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.image import imread

from forecasting.tracking.plots import backtest_mase, bootstrap_mase


def _panel(seed: int = 0):
    rng = np.random.default_rng(seed)
    series = np.repeat([0, 1, 2], [40, 25, 30])
    errors = {
        "LSTM": rng.gamma(2.0, 0.5, len(series)),
        "GRU": rng.gamma(2.0, 0.45, len(series)),
        "seasonal naive": np.full(len(series), 1.0),
    }
    return errors, series


def test_estimate_is_the_mean_over_series_of_each_series_mean_and_lies_in_its_interval():
    errors, series = _panel()
    stats = bootstrap_mase(errors, series)
    for name, e in errors.items():
        expected = np.mean([e[series == s].mean() for s in range(3)])
        assert stats.loc[name, "mase"] == pytest.approx(expected)
        assert stats.loc[name, "low"] <= stats.loc[name, "mase"] <= stats.loc[name, "high"]
    assert stats.loc["LSTM", "high"] - stats.loc["LSTM", "low"] > 0.05
    # constant errors leave nothing to resample
    assert stats.loc["seasonal naive", ["low", "high"]].tolist() == pytest.approx([1.0, 1.0])


def test_interval_is_reproducible_and_narrows_with_more_windows():
    errors, series = _panel()
    assert bootstrap_mase(errors, series).equals(bootstrap_mase(errors, series))
    many = np.tile(series, 16)
    wide = bootstrap_mase({"m": errors["LSTM"]}, series)
    narrow = bootstrap_mase({"m": np.tile(errors["LSTM"], 16)}, many)
    assert (narrow["high"] - narrow["low"]).item() < (wide["high"] - wide["low"]).item() / 2


def test_series_without_a_scale_are_left_out_as_in_the_table():
    errors, series = _panel()
    e = errors["LSTM"].copy()
    e[series == 1] = np.nan  # a series whose MASE scale is undefined
    stats = bootstrap_mase({"LSTM": e}, series)
    expected = np.mean([e[series == s].mean() for s in (0, 2)])
    assert stats.loc["LSTM", "mase"] == pytest.approx(expected)
    assert np.isfinite(stats.loc["LSTM", ["low", "high"]]).all()


def test_chart_is_a_png_with_a_bar_per_forecaster(tmp_path):
    errors, series = _panel()
    path = tmp_path / "backtest_mase.png"
    stats = backtest_mase(path, errors, series, winner="GRU")
    assert list(stats.index) == ["LSTM", "GRU", "seasonal naive"]
    image = imread(path)
    assert image.shape[0] > 300 and image.shape[1] > 500
