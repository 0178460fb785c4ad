"""Every series' scaled features in one flat array: what windows are cut from, on demand.

A panel of S series holds ``sum(T_s)`` rows of ``F`` float32 features (the scaled target, the
scaled covariates, then the calendar features), series after series; ``offsets[s]`` is the
first row of series ``s``. A window is a *row* (its origin's row in the flat array), so its
lookback is rows ``[row - L + 1, row]`` and its targets rows ``[row + 1, row + H]``: memory is
O(points), and a window's arrays exist only while a caller (or a training batch) needs them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

ALIGN = 64  # bytes: TensorFlow's CPU kernels need this to read the buffer without a copy


def aligned_empty(shape: tuple[int, int]) -> np.ndarray:
    """An uninitialised float32 array whose buffer starts on an ``ALIGN``-byte boundary, so the
    input pipeline can hand it to TensorFlow without copying it (DLPack)."""
    size = shape[0] * shape[1] * 4
    raw = np.empty(size + ALIGN, dtype=np.uint8)
    start = -raw.ctypes.data % ALIGN
    return raw[start : start + size].view(np.float32).reshape(shape)


def is_aligned(array: np.ndarray) -> bool:
    return array.flags.c_contiguous and array.ctypes.data % ALIGN == 0


@dataclass
class Panel:
    """All series' features [P, F] (float32), the first row of each series, and how many of
    the columns are values (target then covariates); the calendar columns follow them."""

    features: np.ndarray  # [P, F]
    offsets: np.ndarray  # [S] int64
    n_values: int

    @classmethod
    def of(cls, features: list[np.ndarray], n_values: int) -> Panel:
        """One panel from the [T_s, F] features of each series (copied once, into one array)."""
        lengths = np.array([len(f) for f in features], dtype=np.int64)
        offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
        width = features[0].shape[1] if features else n_values
        flat = aligned_empty((int(lengths.sum()), width))
        if features:
            np.concatenate(features, out=flat, casting="same_kind")
        return cls(flat, offsets, n_values)

    def series_view(self, index: int, length: int) -> np.ndarray:
        """The [T, F] rows of series ``index`` (a view, not a copy)."""
        start = int(self.offsets[index])
        return self.features[start : start + length]

    def rows(self, series: np.ndarray, origin: np.ndarray) -> np.ndarray:
        """[N] flat row of each window's origin."""
        return self.offsets[series] + origin

    def past(self, rows: np.ndarray, lookback: int) -> np.ndarray:
        """[N, L, F] lookbacks of the windows at ``rows``."""
        return self.features[rows[:, None] + np.arange(1 - lookback, 1)]

    def past_target(self, rows: np.ndarray, lookback: int) -> np.ndarray:
        """[N, L, 1] the scaled target of the lookbacks (what loss and interval scales read)."""
        return self.features[rows[:, None] + np.arange(1 - lookback, 1), :1]

    def future(self, rows: np.ndarray, horizon: int) -> np.ndarray:
        """[N, H, K] calendar features of the target steps."""
        return self.features[rows[:, None] + np.arange(1, horizon + 1), self.n_values :]

    def target(self, rows: np.ndarray, horizon: int) -> np.ndarray:
        """[N, H] scaled targets."""
        return self.features[rows[:, None] + np.arange(1, horizon + 1), 0]

    @property
    def nbytes(self) -> int:
        return int(self.features.nbytes + self.offsets.nbytes)
