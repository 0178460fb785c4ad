"""The one policy for series too short to train on: left out with one warning while they are
at most half of the panel, refused with the diagnosis when they are more, or any with strict."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest

from forecasting.data import load_series
from forecasting.errors import DataError
from forecasting.windowing import WindowSpec, make_windows, min_length
from forecasting.windowing.usable import LeftOut, left_out_frame, partition

SPEC = WindowSpec(lookback=12, horizon=4, n_folds=2)
NEED = min_length(SPEC)


def panel(lengths: dict[str, int]):
    parts = [pd.DataFrame({"unique_id": uid, "ds": pd.date_range("2024-01-01", periods=n, freq="h"),
                           "y": 10.0 * (i + 1) + np.sin(np.arange(n) / 3.0)})
             for i, (uid, n) in enumerate(lengths.items())]
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
    assert left == [LeftOut("short", NEED - 1, f"{NEED - 1} points, {reason}"), LeftOut("tiny", 8, f"8 points, {reason}")]
    assert usable.ids == ["a", "b"]
    assert usable.frame.index.tolist() == list(range(len(usable.frame)))
    pd.testing.assert_frame_equal(usable.frame, data.frame[data.frame["unique_id"].isin(["a", "b"])].reset_index(drop=True))
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings == [f"panel: column 'y': 2 of 4 series left out of training (fewer than {NEED} points): "
                        "'short', 'tiny'; the best baseline forecasts them"]
    assert make_windows(usable, SPEC).ids == ["a", "b"], "what is left windows without error"
    table = left_out_frame(left, "seasonal_naive")
    assert table.to_dict("list") == {"series": ["short", "tiny"], "points": [NEED - 1, 8],
                                     "reason": [x.reason for x in left], "forecaster": ["seasonal_naive"] * 2}


def test_more_than_half_of_the_panel_short_is_refused():
    data = panel({"a": NEED, "s1": NEED - 1, "s2": 10})
    with pytest.raises(DataError) as err:
        partition(data, SPEC)
    assert str(err.value) == (
        f"panel: column 'y': 2 of 3 series have fewer than {NEED} points (lookback 12 + horizon 4 + validation "
        f"and backtest), that is most of the panel: 's1', 's2'; shortest 's2' has 10 points "
        "(shorten --lookback or --horizon)"
    )


def test_strict_refuses_any_short_series():
    data = panel({"a": NEED, "b": NEED, "s": NEED - 1})
    assert [x.uid for x in partition(data, SPEC)[1]] == ["s"]
    with pytest.raises(DataError, match=r"1 of 3 series have fewer than \d+ points .*--strict refuses any: 's'"):
        partition(data, SPEC, strict=True)


def test_a_long_list_of_ids_is_cut_short():
    lengths = {f"ok{i}": NEED for i in range(7)} | {f"s{i}": 9 for i in range(7)}
    with pytest.raises(DataError, match=r"'s0', 's1', 's2', 's3', 's4' and 2 more; shortest"):
        partition(panel(lengths), SPEC, strict=True)
