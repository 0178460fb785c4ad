"""Training windows sampled per epoch (``training.windows_per_series``): bounded, seeded, fresh.

Each batch carries its windows' indices as weights (``weights=arange(N)``), so the test reads
which windows an epoch used and checks their gathered arrays against the split's own.
"""

from __future__ import annotations

import numpy as np
import pytest

from forecasting.data import load_series
from forecasting.windowing import WindowSpec, make_windows

PER_SERIES = 20


@pytest.fixture
def train(synthetic_panel):
    # Series of different lengths: the shortest has fewer than PER_SERIES training windows.
    data = load_series(synthetic_panel({"a": 40, "b": 150, "c": 300}), name="t")
    return make_windows(data, WindowSpec(lookback=12, horizon=3)).splits["train"]


def epochs(train, n_epochs, seed, batch_size=16):
    """The window indices each of ``n_epochs`` passes over the sampled dataset used, and the
    batches' arrays of the first pass."""
    ds = train.dataset(
        batch_size,
        shuffle=True,
        seed=seed,
        weights=np.arange(len(train), dtype=np.float32),
        per_series=PER_SERIES,
    )
    used, first = [], None
    for _ in range(n_epochs):
        batches = [(x["past"].numpy(), x["future"].numpy(), y.numpy(), w.numpy()) for x, y, w in ds]
        used.append(np.concatenate([b[3] for b in batches]).astype(int))
        if first is None:
            first = [np.concatenate([b[j] for b in batches]) for j in range(3)]
    return used, first


def test_each_epoch_takes_at_most_the_budget_of_every_series_and_no_window_twice(train):
    counts = np.bincount(train.series)
    assert counts.min() < PER_SERIES < counts.max()  # the fixture covers both cases
    used, _ = epochs(train, 3, seed=1)
    for index in used:
        assert len(np.unique(index)) == len(index)  # no window twice in an epoch
        per_series = np.bincount(train.series[index], minlength=len(counts))
        np.testing.assert_array_equal(per_series, np.minimum(counts, PER_SERIES))
    # A short series gives all its windows; a long one a different sample every epoch.
    short = np.flatnonzero(counts < PER_SERIES)[0]
    for index in used:
        np.testing.assert_array_equal(
            np.sort(index[train.series[index] == short]), np.flatnonzero(train.series == short)
        )
    assert len({tuple(np.sort(index)) for index in used}) == 3


def test_the_sample_spreads_over_the_whole_training_span(train):
    long = int(np.argmax(np.bincount(train.series)))
    rows = np.flatnonzero(train.series == long)
    used, _ = epochs(train, 1, seed=3)
    picked = np.sort(used[0][train.series[used[0]] == long])
    # One window from each of PER_SERIES equal strata of the series' windows (integer bounds).
    count = len(rows)
    j = np.arange(PER_SERIES)
    relative = picked - rows[0]
    assert (
        (j * count // PER_SERIES <= relative) & (relative < (j + 1) * count // PER_SERIES)
    ).all()


def test_the_same_seed_repeats_every_epoch_and_another_seed_does_not(train):
    a, _ = epochs(train, 2, seed=5)
    b, _ = epochs(train, 2, seed=5)
    c, _ = epochs(train, 2, seed=6)
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x, y)  # order included
    assert not all(np.array_equal(x, z) for x, z in zip(a, c, strict=True))


def test_sampled_batches_hold_the_windows_they_name(train):
    used, (past, future, target) = epochs(train, 1, seed=2)
    chosen = train.take(used[0])
    np.testing.assert_array_equal(past, chosen.past)
    np.testing.assert_array_equal(future, chosen.future)
    np.testing.assert_array_equal(target, chosen.target)
