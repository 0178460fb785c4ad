"""Memory of the windows is O(points), not O(windows x lookback) (issue 14).

Measured, not assumed: the bytes of every NumPy buffer reachable from what `make_windows`
returns (each buffer counted once, views counted as their base), and of what the training
input keeps (the panel's flat features, each window's row, its loss weight). Materialised
windows ([N, L, F] float32 lookbacks) would be many times larger and grow with the lookback.
"""

from __future__ import annotations

import numpy as np
import pytest

from forecasting.data import load_series
from forecasting.windowing import WindowSpec, make_windows

HORIZON = 6


def held_nbytes(root) -> int:
    """Bytes of the distinct NumPy buffers reachable from ``root`` through attributes,
    dataclass fields, lists, tuples and dicts (a view counts as its base, once)."""
    seen, buffers, stack = set(), {}, [root]
    while stack:
        obj = stack.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        if isinstance(obj, np.ndarray):
            base = obj
            while isinstance(base.base, np.ndarray):
                base = base.base
            buffers[id(base)] = base.nbytes
        elif isinstance(obj, dict):
            stack.extend(obj.values())
        elif isinstance(obj, (list, tuple)):
            stack.extend(obj)
        elif type(obj).__module__.startswith("forecasting."):
            stack.extend(vars(obj).values())
    return sum(buffers.values())


def windowed(synthetic_panel, series: int, length: int, lookback: int):
    data = load_series(synthetic_panel(series, length), name="t")
    return make_windows(data, WindowSpec(lookback=lookback, horizon=HORIZON))


def materialised(wd) -> int:
    """Bytes the training split's lookbacks alone would take as one [N, L, F] float32 array."""
    return len(wd.splits["train"]) * wd.spec.lookback * wd.n_features * 4


def test_held_bytes_grow_with_points_not_with_windows_times_lookback(synthetic_panel):
    small = windowed(synthetic_panel, 4, 1000, lookback=8)
    long_lookback = windowed(synthetic_panel, 4, 1000, lookback=96)
    wide = windowed(synthetic_panel, 16, 1000, lookback=96)
    held = {
        name: held_nbytes(wd)
        for name, wd in [("small", small), ("L96", long_lookback), ("wide", wide)]
    }
    # Twelve times the lookback: the windows' arrays would be about 12x larger; what is held
    # does not grow at all (slightly fewer windows fit).
    assert materialised(long_lookback) > 10 * materialised(small)
    assert held["L96"] <= held["small"]
    # Four times the points: what is held grows in proportion (within 10 %).
    assert held["wide"] == pytest.approx(4 * held["L96"], rel=0.1)
    # And it is a small fraction of the lookbacks alone, were they materialised.
    assert held["wide"] < materialised(wide) / 10
    # Per point: the panel's F float32 features, the original values and times (8 bytes each),
    # and per window a few integers (one to three windows per point across the splits).
    points = 16 * 1000
    assert held["wide"] / points < wide.n_features * 4 + 16 + 3 * 20


def test_reading_the_windows_or_training_batches_keeps_nothing(synthetic_panel):
    wd = windowed(synthetic_panel, 4, 600, lookback=48)
    before = held_nbytes(wd)
    train = wd.splits["train"]
    assert train.past.shape == (len(train), 48, wd.n_features)  # gathered on access ...
    weights = np.ones(len(train), dtype=np.float32)
    for _ in train.dataset(64, shuffle=True, seed=0, weights=weights).take(3):
        pass
    assert held_nbytes(wd) == before  # ... and not kept


def test_the_training_input_keeps_the_panel_and_an_index(synthetic_panel):
    """What `Windows.dataset` is built from: the panel's features (one tensor, shared by the
    training and validation inputs), each window's row (int64) and weight (float32)."""
    for series in (4, 16):
        wd = windowed(synthetic_panel, series, 1000, lookback=96)
        train = wd.splits["train"]
        kept = wd.panel.features.nbytes + train.rows.nbytes + len(train) * 4
        assert kept == series * 1000 * wd.n_features * 4 + len(train) * 12
        assert kept < materialised(wd) / 10


def test_the_input_pipeline_reads_the_panel_itself_not_a_copy(synthetic_panel):
    """The panel is handed to TensorFlow without copying (DLPack on an aligned buffer): a value
    changed in the panel after the pipeline was built is what the pipeline's batch holds."""
    wd = windowed(synthetic_panel, 2, 300, lookback=24)
    val = wd.splits["val"]
    ds = val.dataset(batch_size=8)
    assert wd.panel.features.ctypes.data % 64 == 0
    row = int(val.rows[0])
    wd.panel.features[row + 1, 0] = 12345.0  # the first window's first target
    _, target = next(iter(ds))
    assert float(target[0, 0]) == 12345.0
