"""Vectorised (lookback -> horizon) windows over one regular series.

A window is identified by its *origin* o, the index of its last observed point:
its inputs are steps [o - L + 1, o] and its targets [o + 1, o + H].
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


def origins_between(
    length: int, lookback: int, horizon: int, first_target: int, end_target: int, stride: int = 1
) -> np.ndarray:
    """Origins of the windows whose targets all lie in ``[first_target, end_target)``.

    Windows start at the earliest origin and step by ``stride``. The count is
    ``(last - first) // stride + 1`` where ``first = max(L - 1, first_target - 1)`` and
    ``last = min(end_target, length) - H - 1`` (zero when ``last < first``).
    """
    first = max(lookback - 1, first_target - 1)
    last = min(end_target, length) - horizon - 1
    if last < first:
        return np.empty(0, dtype=np.int64)
    return np.arange(first, last + 1, stride, dtype=np.int64)


def gather(values: np.ndarray, origins: np.ndarray, before: int, after: int) -> np.ndarray:
    """Slices ``values[o - before + 1 : o + after + 1]`` for every origin, as one array.

    ``values`` is [T] or [T, F]; the result is [N, before + after] or [N, before + after, F].
    Uses a strided view, so no Python loop runs over windows.
    """
    width = before + after
    if values.ndim == 1:
        view = sliding_window_view(values, width)  # [T - width + 1, width]
        return view[origins - before + 1]
    view = sliding_window_view(values, width, axis=0)  # [T - width + 1, F, width]
    return view[origins - before + 1].transpose(0, 2, 1)  # [N, width, F]


def complete(values: np.ndarray, origins: np.ndarray, before: int, after: int) -> np.ndarray:
    """Boolean [N]: the window around each origin holds no missing value."""
    bad = np.isnan(values) if values.ndim == 1 else np.isnan(values).any(axis=1)
    # A prefix sum counts gaps in any slice in O(1).
    csum = np.concatenate([[0], np.cumsum(bad)])
    return (csum[origins + after + 1] - csum[origins - before + 1]) == 0
