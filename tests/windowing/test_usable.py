"""The one policy for series too short to train on: left out with one warning while they are
at most half of the panel, refused with the diagnosis when they are more, or any with strict."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest

from forecasting.config import DataConfig
from forecasting.data import Columns, load_series
from forecasting.errors import ConfigError, DataError
from forecasting.windowing import WindowSpec, make_windows, min_length, split_series
from forecasting.windowing.usable import LeftOut, left_out_frame, partition

SPEC = WindowSpec(lookback=12, horizon=4, n_folds=2)
NEED = min_length(SPEC)


def panel(lengths: dict[str, int]):
    parts = [
        pd.DataFrame(
            {
                "unique_id": uid,
                "ds": pd.date_range("2024-01-01", periods=n, freq="h"),
                "y": 10.0 * (i + 1) + np.sin(np.arange(n) / 3.0),
            }
        )
        for i, (uid, n) in enumerate(lengths.items())
    ]
    return load_series(pd.concat(parts, ignore_index=True), name="panel")


def test_a_panel_of_usable_series_is_returned_as_is():
    data = panel({"a": NEED, "b": NEED + 30})
    usable, left = partition(data, SPEC)
    assert usable is data and left == []


def test_short_series_up_to_half_of_the_panel_are_left_out_with_one_warning(caplog):
    data = panel({"a": NEED + 20, "short": NEED - 1, "b": NEED, "tiny": 8})
    with caplog.at_level(logging.WARNING):
        usable, left = partition(data, SPEC)
    reason = f"fewer than the {NEED} that lookback 12, horizon 4, validation and backtest need"
    assert left == [
        LeftOut("short", NEED - 1, f"{NEED - 1} points, {reason}"),
        LeftOut("tiny", 8, f"8 points, {reason}"),
    ]
    assert usable.ids == ["a", "b"]
    assert usable.frame.index.tolist() == list(range(len(usable.frame)))
    pd.testing.assert_frame_equal(
        usable.frame, data.frame[data.frame["unique_id"].isin(["a", "b"])].reset_index(drop=True)
    )
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings == [
        f"panel: column 'y': 2 of 4 series left out of training (fewer than {NEED} points): "
        "'short', 'tiny'; the best baseline forecasts them"
    ]
    assert make_windows(usable, SPEC).ids == ["a", "b"], "what is left windows without error"
    table = left_out_frame(left, "seasonal_naive")
    assert table.to_dict("list") == {
        "series": ["short", "tiny"],
        "points": [NEED - 1, 8],
        "reason": [x.reason for x in left],
        "forecaster": ["seasonal_naive"] * 2,
    }


def test_more_than_half_of_the_panel_short_is_refused():
    data = panel({"a": NEED, "s1": NEED - 1, "s2": 10})
    with pytest.raises(DataError) as err:
        partition(data, SPEC)
    assert str(err.value) == (
        f"panel: column 'y': 2 of 3 series have fewer than {NEED} points (lookback 12 + horizon 4 + validation "
        f"and backtest), that is most of the panel: 's1', 's2'; shortest 's2' has 10 points "
        "(shorten the lookback or the horizon)"
    )


def test_strict_refuses_any_short_series():
    data = panel({"a": NEED, "b": NEED, "s": NEED - 1})
    assert [x.uid for x in partition(data, SPEC)[1]] == ["s"]
    with pytest.raises(
        DataError, match=r"1 of 3 series have fewer than \d+ points .*--strict refuses any: 's'"
    ):
        partition(data, SPEC, strict=True)


def test_a_long_list_of_ids_is_cut_short():
    lengths = {f"ok{i}": NEED for i in range(7)} | {f"s{i}": 9 for i in range(7)}
    with pytest.raises(DataError, match=r"'s0', 's1', 's2', 's3', 's4' and 2 more; shortest"):
        partition(panel(lengths), SPEC, strict=True)


# --- from a file: the messages name it and its target column -------------------------------------


def hourly_csv(write_csv, lengths: dict[str, int], gap_in: str | None = None):
    """An hourly file ``ts.csv`` (target ``load``); ``gap_in`` loses its third row (filled on load)."""
    parts = [
        pd.DataFrame(
            {
                "unique_id": uid,
                "ds": pd.date_range("2024-01-01", periods=n, freq="h"),
                "load": 5.0 * (i + 1) + np.cos(np.arange(n) / 4.0),
            }
        )
        for i, (uid, n) in enumerate(lengths.items())
    ]
    if gap_in is not None:
        k = list(lengths).index(gap_in)
        parts[k] = parts[k].drop(index=2)
    return write_csv(pd.concat(parts, ignore_index=True), "ts.csv")


def test_one_short_series_of_four_is_left_out_and_the_rest_is_untouched(write_csv, caplog):
    path = hourly_csv(
        write_csv, {"a": NEED + 5, "b": NEED, "c": NEED - 3, "d": NEED + 40}, gap_in="c"
    )
    data = load_series(path, Columns(target="load"))
    assert data.filled == {"a": 0, "b": 0, "c": 1, "d": 0}
    with caplog.at_level(logging.WARNING):
        usable, left = partition(data, SPEC)
    assert left == [
        LeftOut(
            "c",
            NEED - 3,
            f"{NEED - 3} points, fewer than the {NEED} that lookback 12, "
            "horizon 4, validation and backtest need",
        )
    ]
    assert usable.ids == ["a", "b", "d"]
    for uid in ("a", "b", "d"):
        pd.testing.assert_frame_equal(
            usable.series(uid).reset_index(drop=True), data.series(uid).reset_index(drop=True)
        )
    assert usable.filled == {"a": 0, "b": 0, "d": 0}, (
        "the invented points of a left-out series leave with it"
    )
    assert (usable.columns, usable.freq, usable.source, usable.covariates) == (
        data.columns,
        data.freq,
        data.source,
        data.covariates,
    )
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1
    assert warnings[0].getMessage() == (
        f"{path}: column 'load': 1 of 4 series left out of training (fewer than {NEED} points): 'c'; "
        "the best baseline forecasts them"
    )


def test_three_short_series_of_four_are_refused_in_one_line(write_csv, caplog):
    path = hourly_csv(write_csv, {"long": NEED + 10, "x": NEED - 1, "y": 7, "z": NEED - 2})
    data = load_series(path, Columns(target="load"))
    with caplog.at_level(logging.WARNING), pytest.raises(DataError) as err:
        partition(data, SPEC)
    message = str(err.value)
    assert "\n" not in message
    assert message == (
        f"{path}: column 'load': 3 of 4 series have fewer than {NEED} points (lookback 12 + horizon 4 + "
        "validation and backtest), that is most of the panel: 'x', 'y', 'z'; shortest 'y' has 7 points "
        "(shorten the lookback or the horizon)"
    )
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING], (
        "refused, not also warned"
    )


def test_strict_refuses_one_short_series_of_four(write_csv):
    path = hourly_csv(write_csv, {"a": NEED, "b": NEED, "c": NEED, "d": NEED - 1})
    data = load_series(path, Columns(target="load"))
    with pytest.raises(DataError) as err:
        partition(data, SPEC, strict=True)
    assert str(err.value) == (
        f"{path}: column 'load': 1 of 4 series have fewer than {NEED} points (lookback 12 + horizon 4 + "
        f"validation and backtest), --strict refuses any: 'd'; shortest 'd' has {NEED - 1} points "
        "(shorten the lookback or the horizon)"
    )
    assert partition(data, SPEC, strict=False)[0].ids == ["a", "b", "c"]


def test_the_needed_length_is_the_shortest_series_split_series_accepts():
    assert NEED == 12 + 4 + 4 + 8  # first window, validation max(ceil(0.1 n), 4), test 2 folds of 4
    ok = split_series(NEED, SPEC, uid="")
    assert ok.train_end == 16
    with pytest.raises(ConfigError):
        split_series(NEED - 1, SPEC, uid="")


@pytest.mark.parametrize("lookback", [1, 5, 24])
@pytest.mark.parametrize("val_fraction", [0.05, 0.3])
@pytest.mark.parametrize("test_fraction", [0.1, 0.5])
def test_every_series_at_least_min_length_long_splits(lookback, val_fraction, test_fraction):
    # Rounding the shares up can make one more point cost a training point (30 points split
    # and 31 do not at lookback 1, horizon 5, shares 0.3 / 0.5): min_length is where that stops.
    spec = WindowSpec(
        lookback=lookback, horizon=5, val_fraction=val_fraction, test_fraction=test_fraction
    )
    need = min_length(spec)
    for length in range(need, need + 400):
        split_series(length, spec, uid="s")
    with pytest.raises(ConfigError):
        split_series(need - 1, spec, uid="s")


def gappy_panel(lengths: dict[str, int], missing: dict[str, list[int]], fill="interpolate"):
    """Hourly series; the positions in ``missing`` are absent from the file."""
    parts = []
    for i, (uid, n) in enumerate(lengths.items()):
        part = pd.DataFrame(
            {
                "unique_id": uid,
                "ds": pd.date_range("2024-01-01", periods=n, freq="h"),
                "y": 10.0 * (i + 1) + np.sin(np.arange(n) / 3.0),
            }
        )
        parts.append(part.drop(index=missing.get(uid, [])))
    return load_series(pd.concat(parts, ignore_index=True), fill=fill, name="panel")


def test_a_series_over_the_fill_bound_joins_the_short_ones_in_the_one_policy(caplog):
    # 'holey' misses 20 of 200 points (10 %, at the bound) in one gap of 20: the gap of 20 is
    # within one season (24) too, so only a bound of 5 % puts it over; 'short' is too short.
    data = gappy_panel(
        {"a": 200, "b": 200, "c": 200, "holey": 200, "short": NEED - 1},
        {"holey": list(range(50, 70))},
    )
    assert [x.uid for x in partition(data, SPEC, period=24)[1]] == ["short"], "10 % is within"
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        usable, left = partition(data, SPEC, bound=DataConfig(max_fill=0.05), period=24)
    assert [(x.uid, x.points, x.kind) for x in left] == [
        ("holey", 200, "fill"),
        ("short", NEED - 1, "short"),
    ]
    assert left[0].reason == (
        "20 of 200 points would be invented (10%, longest gap 20), over the fill bound (at most "
        "5% of the points, no gap over 24 steps); likely cause: gaps in the data (no change of "
        "spacing found)"
    )
    assert usable.ids == ["a", "b", "c"]
    assert "holey" not in usable.filled and "holey" not in usable.gaps
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings == [
        f"panel: column 'y': 2 of 5 series left out of training (1 with fewer than {NEED} points, "
        f"1 over the fill bound): 'holey', 'short'; the best baseline forecasts them; "
        f"'holey': {left[0].reason}"
    ]


def test_one_gap_longer_than_max_gap_is_over_the_bound_and_drop_invents_nothing():
    lengths = {"a": 300, "b": 300, "c": 300}
    missing = {"c": list(range(100, 110))}  # 10 of 300 points (3 %) in one gap of 10 steps
    assert partition(gappy_panel(lengths, missing), None, period=24)[1] == []
    _, left = partition(gappy_panel(lengths, missing), None, bound=DataConfig(max_gap=9))
    assert [(x.uid, x.kind) for x in left] == [("c", "fill")]
    assert "no gap over 9 steps" in left[0].reason
    dropped = gappy_panel(lengths, missing, fill="drop")
    assert partition(dropped, None, bound=DataConfig(max_gap=9)) == (dropped, [])
    with pytest.raises(
        DataError,
        match=r"1 of 3 series cannot be used as given \(1 over the fill bound\), --strict refuses any: 'c'",
    ):
        partition(gappy_panel(lengths, missing), None, strict=True, bound=DataConfig(max_gap=9))


def test_the_fill_bound_is_checked_where_it_is_defined():
    with pytest.raises(
        ConfigError,
        match=r"data.max_fill: Input should be greater than or equal to 0 \(received -0.1\)",
    ):
        DataConfig(max_fill=-0.1)
    with pytest.raises(ConfigError, match="data.max_gap"):
        DataConfig(max_gap="week")
    assert DataConfig().gap_steps(24) == 24 and DataConfig(max_gap=5).gap_steps(24) == 5
