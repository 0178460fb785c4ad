"""Split-conformal prediction intervals, normalised per window and calibrated per horizon step.

A forecaster's absolute errors on windows it was not fitted to (the validation windows), each
divided by its window's own scale ``s_w``, are the nonconformity scores. ``s_w`` is the mean
absolute seasonal difference of the window's lookback (:func:`forecasting.models.training.
window_scales`, the scale of the ``scaled_mae`` loss), read from the inputs only, so a calm
window gets a narrow interval and a volatile one a wide interval. For horizon step ``h`` and
level ``p`` the quantile ``q_h(p)`` is the ``ceil((n + 1) p / 100)``-th smallest of the ``n``
scores of that step; the interval of a new window is ``y_hat ± q_h(p) · s_w``. If the new
window and the calibration windows are exchangeable, it covers the actual value with
probability at least ``p`` %.

The quantiles are stored for every integer level 1..99 (:data:`ALL_LEVELS`), so any of them can
be asked for at prediction time without the calibration windows.
"""

from __future__ import annotations

import logging
import math
import warnings
from collections.abc import Sequence

import numpy as np

from forecasting.models.training import window_scales

log = logging.getLogger(__name__)

ALL_LEVELS = tuple(range(1, 100))  # the levels a calibration stores, in percent
DEFAULT_FLOOR_SHARE = 0.1  # a flat lookback's scale is raised to this share of the median one


def scale_floor(past: np.ndarray, period: int, share: float = DEFAULT_FLOOR_SHARE) -> float:
    """A floor for the window scales: ``share`` of the median scale of ``past`` (positive)."""
    return floor_of(window_scales(past, period), share)


def floor_of(scales: np.ndarray, share: float = DEFAULT_FLOOR_SHARE) -> float:
    """``scale_floor`` from the window scales already measured (e.g. a split's, piecewise)."""
    scales = scales[np.isfinite(scales)]
    median = float(np.median(scales)) if len(scales) else 0.0
    return max(share * median, 1e-6)


def lookback_scales(past: np.ndarray, period: int, floor: float) -> np.ndarray:
    """[N, L, F] windows -> [N] scale of each lookback's target, at least ``floor``.

    A lookback of a single point (no difference to take) gets the floor."""
    with warnings.catch_warnings():  # the mean of no differences warns; it is NaN here
        warnings.simplefilter("ignore", RuntimeWarning)
        scales = window_scales(past, period)
    return np.where(np.isfinite(scales), np.maximum(scales, floor), floor)


def nonconformity(y: np.ndarray, y_hat: np.ndarray, scales: np.ndarray) -> np.ndarray:
    """[N, H] absolute errors each divided by its window's scale [N]."""
    return np.abs(y - y_hat) / scales[:, None]


def conformal_quantiles(scores: np.ndarray, levels: Sequence[int] = ALL_LEVELS) -> np.ndarray:
    """[N, H] scores -> [H, len(levels)] quantiles: per step, the ``ceil((n+1) p/100)``-th smallest.

    With too few windows for a level (``ceil((n+1) p/100) > n``) no finite quantile guarantees
    it; the largest score is used instead and a warning names the level.
    """
    n, horizon = scores.shape
    if n == 0:
        raise ValueError("conformal calibration needs at least one window")
    ordered = np.sort(scores, axis=0)  # [N, H]
    ranks = np.array([math.ceil((n + 1) * p / 100.0) for p in levels])
    short = [p for p, k in zip(levels, ranks, strict=True) if k > n]
    if short:
        log.warning(
            "%d calibration windows are too few to guarantee levels %s; their intervals use the "
            "largest calibration error",
            n,
            short,
        )
    idx = np.minimum(ranks, n) - 1
    return ordered[idx, :].T.copy()  # [H, levels]


def bounds(
    y_hat: np.ndarray, scales: np.ndarray, quantiles: np.ndarray, level: int
) -> tuple[np.ndarray, np.ndarray]:
    """The ``level`` % interval of [N, H] forecasts whose windows have scales [N].

    ``quantiles`` is [H, 99], one column per level of :data:`ALL_LEVELS`.
    """
    q = np.asarray(quantiles)[:, ALL_LEVELS.index(level)]  # [H]
    half = scales[:, None] * q[None, :]
    return y_hat - half, y_hat + half
