"""Calendar features: values at known timestamps, and known-future inputs of every window."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecasting.data import load_series
from forecasting.windowing import WindowSpec, make_windows
from forecasting.windowing.calendar import calendar_feature_names, calendar_features

HOUR = pd.Timedelta(hours=1)
DAY = pd.Timedelta(days=1)


def expected_calendar(times: pd.DatetimeIndex, names: list[str]) -> np.ndarray:
    """Independent transcription: sin/cos of hour of day /24, weekday /7, day of year /365.25."""
    phase = {
        "hour": (times.hour + times.minute / 60.0) / 24.0,
        "dow": times.dayofweek / 7.0,
        "doy": (times.dayofyear - 1) / 365.25,
    }
    cols = []
    for name in names:
        base, fn = name.rsplit("_", 1)
        angle = 2.0 * np.pi * np.asarray(phase[base], dtype=float)
        cols.append(np.sin(angle) if fn == "sin" else np.cos(angle))
    return np.stack(cols, axis=-1)


def test_known_values_written_out():
    # Monday 2024-01-01 06:00: a quarter of the day, first weekday, first day of the year.
    # Sunday 2024-03-31 18:00: three quarters of the day, weekday 6, day of year 91.
    times = pd.DatetimeIndex(["2024-01-01 06:00", "2024-03-31 18:00"])
    got = calendar_features(times, HOUR)
    assert calendar_feature_names(HOUR) == [
        "hour_sin",
        "hour_cos",
        "dow_sin",
        "dow_cos",
        "doy_sin",
        "doy_cos",
    ]
    doy = 2 * np.pi * 90 / 365.25
    want = [
        [1.0, 0.0, 0.0, 1.0, 0.0, 1.0],
        [-1.0, 0.0, np.sin(2 * np.pi * 6 / 7), np.cos(2 * np.pi * 6 / 7), np.sin(doy), np.cos(doy)],
    ]
    np.testing.assert_allclose(got, want, atol=1e-6)
    assert got.dtype == np.float32


@pytest.mark.parametrize(
    ("step", "names"),
    [
        (
            pd.Timedelta(minutes=15),
            ["hour_sin", "hour_cos", "dow_sin", "dow_cos", "doy_sin", "doy_cos"],
        ),
        (DAY, ["dow_sin", "dow_cos", "doy_sin", "doy_cos"]),
        (7 * DAY, ["doy_sin", "doy_cos"]),
        (None, ["doy_sin", "doy_cos"]),  # calendar frequencies such as MS
    ],
)
def test_features_depend_on_the_step(step, names):
    times = pd.date_range("2024-02-27 10:30", periods=9, freq="37h")
    assert calendar_feature_names(step) == names
    np.testing.assert_allclose(
        calendar_features(times, step), expected_calendar(times, names), atol=1e-6
    )


def test_time_zone_aware_stamps_use_the_local_clock():
    local = pd.date_range("2024-07-01 00:00", periods=3, freq="h", tz="Europe/Berlin")
    got = calendar_features(local, HOUR)
    np.testing.assert_allclose(got[0, :2], [0.0, 1.0], atol=1e-6)  # midnight local, not 22:00 UTC
    np.testing.assert_allclose(
        got, expected_calendar(local, calendar_feature_names(HOUR)), atol=1e-6
    )


@pytest.mark.parametrize("freq", ["h", "D"])
def test_future_inputs_are_the_calendar_of_the_target_steps(synthetic_panel, freq):
    data = load_series(synthetic_panel(2, 400, freq=freq), name="t")
    wd = make_windows(data, WindowSpec(lookback=16, horizon=5))
    names = wd.calendar_names
    K = len(names)
    for split, w in wd.splits.items():
        times = wd.target_times(w)  # [N, H]
        for r in range(0, len(w), 5):
            target_times = pd.DatetimeIndex(list(times[r]))
            np.testing.assert_allclose(
                w.future[r], expected_calendar(target_times, names), atol=1e-5, err_msg=split
            )
            # The past carries the calendar of the observed steps, in its last K features.
            series_times = pd.DatetimeIndex(wd.series[w.series[r]].times)
            past_times = series_times[w.origin[r] - 15 : w.origin[r] + 1]
            np.testing.assert_allclose(
                w.past[r, :, -K:], expected_calendar(past_times, names), atol=1e-5
            )


def test_monthly_series_get_day_of_year_only(write_csv):
    times = pd.date_range("2015-01-01", periods=120, freq="MS")
    frame = pd.DataFrame(
        {"ds": times, "y": np.sin(np.arange(120) / 12 * 2 * np.pi) + np.arange(120) / 50}
    )
    data = load_series(write_csv(frame))
    assert data.freq == "MS"
    wd = make_windows(data, WindowSpec(lookback=12, horizon=3, n_folds=2))
    assert wd.calendar_names == ["doy_sin", "doy_cos"]
    w = wd.splits["test"]
    first = pd.DatetimeIndex(list(wd.target_times(w)[0]))
    np.testing.assert_allclose(w.future[0], expected_calendar(first, wd.calendar_names), atol=1e-5)
