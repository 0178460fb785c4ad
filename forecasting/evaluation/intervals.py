"""Prediction intervals on the backtest: calibrated on the validation windows, scored on the test ones.

Every forecaster (a network or a baseline) gets its intervals the same way
(:mod:`forecasting.models.conformal`): its errors on the validation windows, each divided by its
window's lookback scale, give per horizon step the conformal quantile of every level 1..99; the
test windows, which the calibration never saw, then measure

- ``coverage_<p>``: the share of test targets inside the ``p`` % interval (all windows and
  steps pooled: what the conformal guarantee is about), to compare with ``p / 100``;
- ``width_<p>``: the mean interval width on the original scale (mean over series);
- ``msis_<p>``: the M4 mean scaled interval score with ``a = 1 - p / 100``,
  ``mean(U - L + 2/a (L - y)[y < L] + 2/a (y - U)[y > U])`` divided by the series' MASE scale
  (mean over series). Lower is better; it rewards narrow intervals and punishes misses.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from forecasting.models.conformal import (
    bounds,
    conformal_quantiles,
    floor_of,
    lookback_scales,
    nonconformity,
)
from forecasting.models.training import split_scales
from forecasting.windowing import WindowedData
from forecasting.windowing.dataset import Windows, rows_by_series


def coverage(y: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> float:
    """Share of ``y`` inside ``[lo, hi]``."""
    return float(np.mean((y >= lo) & (y <= hi)))


def mean_width(lo: np.ndarray, hi: np.ndarray) -> float:
    return float(np.mean(hi - lo))


def interval_score(y: np.ndarray, lo: np.ndarray, hi: np.ndarray, level: int) -> np.ndarray:
    """The interval score of each point for a ``level`` % interval (Gneiting & Raftery)."""
    a = 1.0 - level / 100.0
    below = np.where(y < lo, lo - y, 0.0)
    above = np.where(y > hi, y - hi, 0.0)
    return (hi - lo) + (2.0 / a) * (below + above)


def msis(y: np.ndarray, lo: np.ndarray, hi: np.ndarray, level: int, scale: float) -> float:
    """Mean scaled interval score (M4): the mean interval score divided by the MASE scale."""
    if not np.isfinite(scale) or scale <= 0:
        return float("nan")
    return float(np.mean(interval_score(y, lo, hi, level)) / scale)


def window_scales_original(data: WindowedData, windows: Windows, floor: float, period: int):
    """[N] lookback scale of each window on the original scale (its series' units).

    ``floor`` is on the scaled data (as the windows' inputs are): a ratio of errors to scales is
    the same in either unit, so calibration and prediction can use whichever they hold."""
    stds = np.array([s.scaler.scale_[0] for s in data.series])
    parts = [lookback_scales(part.past_target, period, floor) for part in windows.chunks()]
    return np.concatenate(parts) * stds[windows.series]


@dataclass
class IntervalBacktest:
    """A forecaster's conformal calibration and its intervals on the test windows."""

    quantiles: np.ndarray  # [H, 99]: per step, the normalised quantile of every level 1..99
    floor: float  # the smallest window scale, on the scaled data
    n_calibration: int  # validation windows the quantiles come from
    bands: dict[int, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)  # [N, H] each
    summary: dict[str, float] = field(default_factory=dict)


def interval_backtest(
    data: WindowedData,
    val_forecasts: np.ndarray,
    test_forecasts: np.ndarray,
    period: int,
    levels: Sequence[int],
    mase_scales: np.ndarray,
) -> IntervalBacktest:
    """Calibrate on the validation windows' forecasts, then score ``levels`` on the test windows.

    Args:
        val_forecasts, test_forecasts: [N, H] forecasts on the original scale of the
            validation and test windows of ``data``.
        mase_scales: [S] the in-sample MASE scale of each series (MSIS divides by it).
    """
    val, test = data.splits["val"], data.splits["test"]
    floor = floor_of(split_scales(data.splits["train"], period))
    scores = nonconformity(
        data.actuals(val), val_forecasts, window_scales_original(data, val, floor, period)
    )
    quantiles = conformal_quantiles(scores)
    result = IntervalBacktest(quantiles, floor, len(val))
    y = data.actuals(test)
    scales = window_scales_original(data, test, floor, period)
    for level in levels:
        lo, hi = bounds(test_forecasts, scales, quantiles, level)
        result.bands[level] = (lo, hi)
        widths, scores_ = [], []
        for i, rows in rows_by_series(test.series):
            widths.append(mean_width(lo[rows], hi[rows]))
            scores_.append(msis(y[rows], lo[rows], hi[rows], level, mase_scales[i]))
        result.summary |= {
            f"coverage_{level}": coverage(y, lo, hi),
            f"width_{level}": float(np.mean(widths)),
            f"msis_{level}": float(np.nanmean(scores_)) if np.isfinite(scores_).any() else np.nan,
        }
    return result
