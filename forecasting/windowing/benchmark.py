"""Our vectorised windowing against ``keras.utils.timeseries_dataset_from_array``.

Both functions cut the same windows from a panel of series: every origin with stride 1,
each window the ``lookback + horizon`` consecutive values ``[o - L + 1, o + H]``, stacked
series after series into one contiguous [N, L + H] float32 array. Ours slices a strided
view per series (:func:`forecasting.windowing.windows.gather`); Keras builds a
``tf.data`` pipeline per series whose batches are copied out as NumPy arrays.

Example:

>>> panel = synthetic_panel(n_series=2, length=300)
>>> windows_ours(panel, lookback=168, horizon=24).shape
(218, 192)
"""

from __future__ import annotations

import resource
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from forecasting.windowing.windows import gather, origins_between


def synthetic_panel(n_series: int, length: int, seed: int = 0) -> np.ndarray:
    """[S, T] float32 hourly-looking series: a level, a daily cycle and noise."""
    rng = np.random.default_rng(seed)
    hours = np.arange(length, dtype=np.float32)
    level = rng.uniform(10.0, 20.0, size=(n_series, 1)).astype(np.float32)
    amplitude = rng.uniform(1.0, 5.0, size=(n_series, 1)).astype(np.float32)
    daily = np.sin(2.0 * np.pi * hours / 24.0, dtype=np.float32)
    noise = rng.standard_normal((n_series, length), dtype=np.float32)
    return level + amplitude * daily + noise


def windows_per_series(length: int, lookback: int, horizon: int) -> int:
    return max(length - lookback - horizon + 1, 0)


def windows_ours(panel: np.ndarray, lookback: int, horizon: int) -> np.ndarray:
    """[S, T] -> [S * n, L + H] contiguous windows, through our ``gather``."""
    n_series, length = panel.shape
    n = windows_per_series(length, lookback, horizon)
    origins = origins_between(length, lookback, horizon, 0, length)  # every origin, stride 1
    out = np.empty((n_series * n, lookback + horizon), dtype=panel.dtype)
    for s in range(n_series):
        out[s * n : (s + 1) * n] = gather(panel[s], origins, lookback, horizon)  # [n, L + H]
    return out


def windows_keras(panel: np.ndarray, lookback: int, horizon: int, batch_size: int = 1024) -> np.ndarray:
    """The same windows through ``keras.utils.timeseries_dataset_from_array``, one series at a time."""
    import keras

    n_series, length = panel.shape
    n = windows_per_series(length, lookback, horizon)
    out = np.empty((n_series * n, lookback + horizon), dtype=panel.dtype)
    for s in range(n_series):
        ds = keras.utils.timeseries_dataset_from_array(
            panel[s], None, sequence_length=lookback + horizon, sequence_stride=1,
            batch_size=batch_size, shuffle=False,
        )
        row = s * n
        for batch in ds:  # [B, L + H] tensors
            values = batch.numpy()
            out[row : row + len(values)] = values
            row += len(values)
        if row != (s + 1) * n:
            raise RuntimeError(f"keras produced {row - s * n} windows for series {s}, expected {n}")
    return out


def maxrss_bytes() -> int:
    """This process's peak resident set size so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


@dataclass
class Measurement:
    seconds: float
    maxrss_before: int  # peak RSS before the call, bytes
    maxrss_after: int  # peak RSS after the call, bytes
    traced_peak: int | None  # tracemalloc peak during the call, bytes (None when not traced)

    @property
    def maxrss_delta(self) -> int:
        return self.maxrss_after - self.maxrss_before


def measure(fn: Callable[[], np.ndarray], trace: bool = False) -> tuple[np.ndarray, Measurement]:
    """Run ``fn`` once: wall time and peak RSS, plus the tracemalloc peak when ``trace``.

    tracemalloc sees NumPy's buffers but not memory TensorFlow allocates in C++, and it
    slows Python-heavy code down, so time an untraced run when both numbers matter.
    """
    before = maxrss_bytes()
    if trace:
        tracemalloc.start()
    start = time.perf_counter()
    result = fn()
    seconds = time.perf_counter() - start
    peak = None
    if trace:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return result, Measurement(seconds, before, maxrss_bytes(), peak)
