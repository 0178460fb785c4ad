"""Windows: counts, series boundaries, gather, inverse scaling and tf.data order."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from forecasting.data import load_series
from forecasting.windowing import WindowSpec, make_windows, split_series
from forecasting.windowing.windows import complete, gather, origins_between


def brute_origins(length, lookback, horizon, first_target, end_target, stride):
    """Every origin whose window fits the series and whose targets lie in [first, end), thinned by stride."""
    valid = [
        o
        for o in range(length)
        if o - lookback + 1 >= 0 and o + 1 >= first_target and o + horizon < min(end_target, length)
    ]
    return valid[::stride]


# --- origins_between and gather --------------------------------------------------------------


def test_origins_between_hand_computed():
    # T=20, L=5, H=3, targets in [10, 16), stride 2: origins 9 (targets 10..12) and 11 (12..14);
    # origin 13 would need target 16.
    assert origins_between(20, 5, 3, 10, 16, 2).tolist() == [9, 11]
    # From the start: the first origin is L - 1 so that the lookback fits.
    assert origins_between(20, 5, 3, 0, 20, 1).tolist() == list(range(4, 17))
    assert origins_between(20, 5, 3, 18, 20, 1).tolist() == []  # fewer than H target steps


def test_origins_between_matches_brute_force_and_the_documented_count():
    for T, L, H, stride in itertools.product([8, 13], [1, 3, 5], [1, 2, 4], [1, 2, 3]):
        for lo, hi in itertools.product(range(0, T + 1, 2), range(0, T + 3, 3)):
            got = origins_between(T, L, H, lo, hi, stride)
            assert got.tolist() == brute_origins(T, L, H, lo, hi, stride), (T, L, H, lo, hi, stride)
            first, last = max(L - 1, lo - 1), min(hi, T) - H - 1
            assert len(got) == (max((last - first) // stride + 1, 0) if last >= first else 0)


@pytest.mark.parametrize("before,after", [(4, 0), (0, 3), (4, 3), (1, 1)])
def test_gather_equals_a_naive_slice(before, after):
    rng = np.random.default_rng(0)
    values = rng.normal(size=(30, 3))
    origins = np.array([before + 2, 20, before - 1 if before else 0, 25 - after])
    origins = origins[(origins - before + 1 >= 0) & (origins + after < 30)]
    got2d = gather(values, origins, before, after)
    got1d = gather(values[:, 1], origins, before, after)
    want = np.stack([values[o - before + 1 : o + after + 1] for o in origins])
    np.testing.assert_array_equal(got2d, want)
    np.testing.assert_array_equal(got1d, want[:, :, 1])
    assert got2d.shape == (len(origins), before + after, 3)


def test_complete_flags_windows_touching_a_missing_value():
    values = np.arange(12, dtype=float)
    values[6] = np.nan
    origins = np.arange(2, 10)  # window [o - 2, o + 2] with before=3, after=2
    ok = complete(values, origins, 3, 2)
    assert ok.tolist() == [not (o - 2 <= 6 <= o + 2) for o in origins]


# --- make_windows -------------------------------------------------------------------------------


@pytest.fixture
def panel(synthetic_panel):
    """Three hourly series of different lengths (distinct levels) with one covariate."""
    frame = synthetic_panel(3, 336, covariates=1)
    frame = frame[~((frame["unique_id"] == "s1") & (frame.index % 336 >= 300))]  # s1 is shorter
    return load_series(frame, name="panel")


SPEC = WindowSpec(lookback=24, horizon=6, stride=1, val_fraction=0.1, test_fraction=0.2, n_folds=3)


def test_split_sizes_hand_computed(synthetic_panel):
    """336 points, L=24, H=6: test 68 = ceil(67.2), val 34, train_end 234, folds of 22 (last 24)."""
    data = load_series(synthetic_panel(3, 336), name="t")
    wd = make_windows(data, SPEC)
    split = wd.series[0].split
    assert (split.train_end, split.val_end, split.cutoffs) == (234, 268, (268, 290, 312))
    # train origins 23..227, validation 233..261, test every 6th from each cutoff - 1:
    # folds 267,273,279 | 289,295,301 | 311,317,323,329.
    assert {k: len(v) for k, v in wd.splits.items()} == {
        "train": 3 * 205,
        "val": 3 * 29,
        "test": 3 * 10,
    }
    test = wd.splits["test"]
    assert test.origin[:10].tolist() == [267, 273, 279, 289, 295, 301, 311, 317, 323, 329]
    assert test.fold[:10].tolist() == [0, 0, 0, 1, 1, 1, 2, 2, 2, 2]


def test_split_sizes_match_the_arithmetic_per_series(panel):
    spec = WindowSpec(lookback=12, horizon=5, stride=3, n_folds=2, backtest_stride=4)
    wd = make_windows(panel, spec)
    for i, arr in enumerate(wd.series):
        T, s = arr.split.length, arr.split
        assert s == split_series(T, spec, arr.uid)
        want = {
            "train": brute_origins(T, 12, 5, 0, s.train_end, 3),
            "val": brute_origins(T, 12, 5, s.train_end, s.val_end, 3),
            "test": [o for k in range(2) for o in brute_origins(T, 12, 5, *s.fold_bounds(k), 4)],
        }
        for name, origins in want.items():
            w = wd.splits[name]
            assert w.origin[w.series == i].tolist() == origins, (arr.uid, name)


def test_no_window_crosses_a_series_boundary(panel):
    """Each window's past and targets are its own series' values around its origin."""
    wd = make_windows(panel, SPEC)
    L, H = SPEC.lookback, SPEC.horizon
    own = {uid: part for uid, part in panel.frame.groupby("unique_id")}
    for name, w in wd.splits.items():
        assert len(w) > 0
        for i, uid in enumerate(wd.ids):
            rows = np.flatnonzero(w.series == i)
            y, x = own[uid]["y"].to_numpy(), own[uid]["x0"].to_numpy()
            scaler = wd.series[i].scaler
            for r in rows:
                o = w.origin[r]
                past_y = w.past[r, :, 0] * scaler.scale_[0] + scaler.mean_[0]
                past_x = w.past[r, :, 1] * scaler.scale_[1] + scaler.mean_[1]
                np.testing.assert_allclose(past_y, y[o - L + 1 : o + 1], rtol=1e-5, err_msg=name)
                np.testing.assert_allclose(past_x, x[o - L + 1 : o + 1], rtol=1e-5, atol=1e-5)
                np.testing.assert_allclose(
                    wd.inverse(w.target[r : r + 1], w.series[r : r + 1])[0],
                    y[o + 1 : o + H + 1],
                    rtol=1e-5,
                )
            # Levels are 100, 200, 300: a value from a neighbouring series would be far off.
            level = 100.0 * (int(uid[1:]) + 1)
            assert np.all(np.abs(wd.history(w)[rows] - level) < 20)


def test_inverse_scaling_returns_original_scale_actuals(panel):
    wd = make_windows(panel, SPEC)
    for name, w in wd.splits.items():
        actuals = wd.actuals(w)
        np.testing.assert_allclose(wd.inverse(w.target, w.series), actuals, rtol=1e-5)
        times = wd.target_times(w)
        frame = panel.frame.set_index(["unique_id", "ds"])["y"]
        ids = np.asarray(wd.ids)[w.series]
        for r in range(0, len(w), 7):
            want = frame.loc[[(ids[r], t) for t in times[r]]].to_numpy()
            np.testing.assert_array_equal(actuals[r], want, err_msg=name)
    # Scaled targets really are scaled (the training part has mean 0, std 1 per series).
    train = wd.splits["train"]
    assert abs(float(train.target[train.series == 0].mean())) < 0.2
    assert 0.8 < float(train.target[train.series == 0].std()) < 1.2


def test_shapes_and_feature_layout(panel):
    wd = make_windows(panel, SPEC)
    K = len(wd.calendar_names)
    assert wd.n_features == 1 + 1 + K
    for w in wd.splits.values():
        assert w.past.shape == (len(w), 24, wd.n_features)
        assert w.future.shape == (len(w), 6, K)
        assert w.target.shape == (len(w), 6)
        assert w.past.dtype == w.future.dtype == w.target.dtype == np.float32
        for i, arr in enumerate(
            wd.series
        ):  # past = [scaled y, scaled x0, calendar of the same steps]
            rows = w.series == i
            np.testing.assert_array_equal(
                w.past[rows][:, :, 2:], gather(arr.calendar, w.origin[rows], 24, 0)
            )
    # The fold marks only test windows.
    assert set(wd.splits["train"].fold) == {-1} and set(wd.splits["val"].fold) == {-1}
    assert set(wd.splits["test"].fold) == {0, 1, 2}


def test_drop_policy_skips_windows_that_touch_a_gap(synthetic_panel):
    frame = synthetic_panel(1, 200)
    frame.loc[50, "y"] = np.nan
    spec = WindowSpec(lookback=10, horizon=4)
    kept = make_windows(load_series(frame, fill="drop", name="t"), spec)
    full = make_windows(load_series(frame, fill="interpolate", name="t"), spec)
    train_end = kept.series[0].split.train_end
    expected = [o for o in brute_origins(200, 10, 4, 0, train_end, 1) if not (o - 9 <= 50 <= o + 4)]
    assert kept.splits["train"].origin.tolist() == expected
    assert len(full.splits["train"]) == len(expected) + 14
    assert not np.isnan(kept.splits["train"].past).any()
    assert np.isnan(kept.series[0].values[50, 0])


# --- tf.data -----------------------------------------------------------------------------------


def test_dataset_shuffles_only_when_asked(synthetic_panel):
    data = load_series(synthetic_panel(2, 150), name="t")
    wd = make_windows(data, WindowSpec(lookback=8, horizon=2))
    train = wd.splits["train"]

    def targets(ds):
        batches = [(x["past"].numpy(), x["future"].numpy(), y.numpy()) for x, y in ds]
        return [np.concatenate([b[j] for b in batches]) for j in range(3)]

    past, future, target = targets(train.dataset(batch_size=32))  # default: no shuffle
    np.testing.assert_array_equal(target, train.target)
    np.testing.assert_array_equal(past, train.past)
    np.testing.assert_array_equal(future, train.future)

    s_past, _, s_target = targets(train.dataset(batch_size=32, shuffle=True, seed=1))
    assert not np.array_equal(s_target, train.target)  # order changed ...
    order = np.lexsort(s_target.T[::-1])
    np.testing.assert_array_equal(s_target[order], train.target[np.lexsort(train.target.T[::-1])])
    # ... but every (inputs, target) pair stays together.
    for r in range(0, len(s_target), 25):
        match = np.flatnonzero((train.target == s_target[r]).all(axis=1))
        assert any(np.array_equal(train.past[m], s_past[r]) for m in match)


def test_dataset_batches(synthetic_panel):
    data = load_series(synthetic_panel(1, 150), name="t")
    val = make_windows(data, WindowSpec(lookback=8, horizon=2)).splits["val"]
    sizes = [len(y) for _, y in val.dataset(batch_size=4)]
    assert sum(sizes) == len(val) and all(s == 4 for s in sizes[:-1])


def test_times_of_targets_follow_the_origin(panel):
    wd = make_windows(panel, SPEC)
    w = wd.splits["val"]
    times = wd.target_times(w)
    for r in range(len(w)):
        series_times = pd.DatetimeIndex(wd.series[w.series[r]].times)
        assert list(times[r]) == list(series_times[w.origin[r] + 1 : w.origin[r] + 7])


def test_rows_by_series_groups_every_window_once_in_order():
    from forecasting.windowing.dataset import rows_by_series

    series = np.array([2, 0, 2, 2, 5, 0])
    groups = list(rows_by_series(series))
    assert [i for i, _ in groups] == [0, 2, 5]  # series without windows are skipped
    for i, rows in groups:
        np.testing.assert_array_equal(rows, np.flatnonzero(series == i))
    assert list(rows_by_series(np.empty(0, dtype=np.int32))) == []
