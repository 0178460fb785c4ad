"""The fallback baseline of a packaged forecaster (`packaging.fallback`): which series it takes
(fewer points than the lookback) and the forecast it gives them, checked against values written
out by hand."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from forecasting.data import TARGET, load_series
from forecasting.packaging.fallback import baseline_forecasts, split_short
from forecasting.packaging.state import ColumnNames, PackagedState


def state(
    fallback: str | None = "seasonal_naive",
    lookback: int = 8,
    horizon: int = 10,
    period: int = 4,
    freq: str = "h",
) -> PackagedState:
    return PackagedState(
        family="gru",
        gru_impl="custom",
        columns=ColumnNames(id="unique_id", time="ds", target="y"),
        covariates=(),
        freq=freq,
        fill="interpolate",
        lookback=lookback,
        horizon=horizon,
        calendar=(),
        scalers={},
        arch="segment",
        period=period,
        fallback=fallback,
    )


def series(values: dict[str, list[float]], freq: str = "h", start: str = "2024-01-01"):
    frame = pd.concat(
        [
            pd.DataFrame(
                {
                    "unique_id": uid,
                    "ds": pd.date_range(start, periods=len(y), freq=freq),
                    "y": np.asarray(y, dtype=float),
                }
            )
            for uid, y in values.items()
        ],
        ignore_index=True,
    )
    return load_series(frame, freq=freq, name="history")


def test_seasonal_naive_repeats_the_last_season():
    data = series(
        {"a": list(range(12))}
    )  # 0 .. 11 at 00:00 .. 11:00; the last season is 8, 9, 10, 11
    out = baseline_forecasts(data, state(horizon=10, period=4))
    times, values = out["a"]
    assert values.tolist() == [8, 9, 10, 11, 8, 9, 10, 11, 8, 9]
    assert list(times) == list(pd.date_range("2024-01-01 12:00", periods=10, freq="h"))


def test_a_horizon_shorter_than_the_season_takes_the_start_of_the_last_season():
    y = [
        float(v) for v in range(100, 130)
    ]  # 30 hourly points, season 24: the last season starts at 106
    _, values = baseline_forecasts(series({"a": y}), state(horizon=6, period=24, lookback=48))["a"]
    assert values.tolist() == [106, 107, 108, 109, 110, 111]


def test_a_series_shorter_than_one_season_repeats_its_last_value():
    data = series({"short": [3.0, 1.0, 2.0], "full": [5.0, 6.0, 7.0, 8.0, 9.0]})
    out = baseline_forecasts(data, state(horizon=5, period=4))
    assert out["short"][1].tolist() == [2.0] * 5
    assert out["full"][1].tolist() == [6.0, 7.0, 8.0, 9.0, 6.0]
    assert list(out["short"][0]) == list(pd.date_range("2024-01-01 03:00", periods=5, freq="h"))
    assert list(out["full"][0]) == list(pd.date_range("2024-01-01 05:00", periods=5, freq="h"))


def test_a_gap_in_the_last_season_repeats_the_last_observed_value():
    data = series({"a": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0]})
    frame = data.frame.copy()
    frame.loc[frame.index[-1], TARGET] = np.nan  # 6:00 missing: the last observed value is 6
    _, values = baseline_forecasts(
        dataclasses.replace(data, frame=frame), state(horizon=3, period=4)
    )["a"]
    assert values.tolist() == [6.0, 6.0, 6.0]


def test_naive_repeats_the_last_value_whatever_the_season():
    _, values = baseline_forecasts(
        series({"a": [1.0, 9.0, 4.0, 7.0, 2.5]}), state("naive", horizon=4, period=2)
    )["a"]
    assert values.tolist() == [2.5] * 4


def test_calendar_frequencies_continue_from_each_series_own_last_time():
    data = series({"m": [10.0, 20.0, 30.0, 40.0, 50.0]}, freq="MS", start="2023-10-01")
    times, values = baseline_forecasts(data, state(horizon=3, period=2, freq="MS"))["m"]
    assert values.tolist() == [40.0, 50.0, 40.0]
    assert list(times) == [
        pd.Timestamp("2024-03-01"),
        pd.Timestamp("2024-04-01"),
        pd.Timestamp("2024-05-01"),
    ]


def test_no_data_no_forecasts():
    assert baseline_forecasts(None, state()) == {}


def test_split_short_sends_series_shorter_than_the_lookback_to_the_fallback():
    data = series(
        {"long": list(range(20)), "exact": list(range(8)), "short": list(range(7)), "tiny": [1.0]}
    )
    long, short = split_short(data, state(lookback=8))
    assert sorted(long.ids) == ["exact", "long"] and sorted(short.ids) == ["short", "tiny"]
    for part in (long, short):
        assert part.frame.index.tolist() == list(range(len(part.frame)))
        assert (part.freq, part.columns, part.source) == (data.freq, data.columns, data.source)
    pd.testing.assert_frame_equal(
        long.series("long").reset_index(drop=True), data.series("long").reset_index(drop=True)
    )
    assert short.series("short")[TARGET].tolist() == list(range(7))
    assert len(long.frame) + len(short.frame) == len(data.frame)


@pytest.mark.parametrize(
    ("lengths", "long_ids", "short_ids"),
    [
        ({"a": 8, "b": 30}, ["a", "b"], None),
        ({"a": 7, "b": 1}, None, ["a", "b"]),
    ],
)
def test_split_short_gives_none_for_an_empty_side(lengths, long_ids, short_ids):
    data = series({uid: list(range(n)) for uid, n in lengths.items()})
    long, short = split_short(data, state(lookback=8))
    assert (sorted(long.ids) if long is not None else None) == long_ids
    assert (sorted(short.ids) if short is not None else None) == short_ids
    if short is None:
        assert long is data


def test_without_a_fallback_every_series_goes_to_the_network():
    data = series({"long": list(range(20)), "short": list(range(3))})
    long, short = split_short(data, state(fallback=None, lookback=8))
    assert long is data and short is None


def test_the_state_the_fallback_reads_round_trips():
    s = state("naive", period=7)
    again = PackagedState.from_json(s.to_json(), "test")
    assert (again.fallback, again.period, again.arch, again.left_out) == ("naive", 7, "segment", ())
    assert again == s
