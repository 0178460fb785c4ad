"""Paired tests of two forecasters' errors over the same backtest windows."""

from __future__ import annotations

import logging

import numpy as np
from scipy import stats

from forecasting.config import TESTS

log = logging.getLogger(__name__)


def wilcoxon(a: np.ndarray, b: np.ndarray) -> float:
    """Two-sided Wilcoxon signed-rank p-value for paired errors ``a`` and ``b``."""
    diff = a - b
    if np.allclose(diff, 0):
        return 1.0
    return float(stats.wilcoxon(a, b, zero_method="wilcox").pvalue)


def diebold_mariano(a: np.ndarray, b: np.ndarray, horizon: int = 1) -> float:
    """Two-sided Diebold–Mariano p-value with a Newey–West variance (h − 1 lags) and the
    Harvey–Leybourne–Newbold small-sample correction, on loss differentials a − b."""
    d = np.asarray(a, dtype=float) - np.asarray(b, dtype=float)
    n = len(d)
    if n < 3 or np.allclose(d, 0):
        return 1.0
    mean = d.mean()
    dc = d - mean
    var = dc @ dc / n
    for lag in range(1, min(horizon, n - 1)):
        var += 2.0 * (dc[lag:] @ dc[:-lag]) / n
    if var <= 0:
        return 1.0
    dm = mean / np.sqrt(var / n)
    correction = np.sqrt((n + 1 - 2 * horizon + horizon * (horizon - 1) / n) / n)
    return float(2.0 * stats.t.sf(abs(dm * correction), df=n - 1))


def paired_p_value(test: str, a: np.ndarray, b: np.ndarray, horizon: int = 1) -> float:
    """p-value of ``test`` over the windows where both errors are defined (a series with an
    undefined MASE scale has NaN window errors; they would make the p-value NaN)."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    defined = np.isfinite(a) & np.isfinite(b)
    if not defined.all():
        log.warning(
            "%s test: leaving out %d of %d windows whose errors are undefined",
            test,
            int((~defined).sum()),
            len(defined),
        )
        a, b = a[defined], b[defined]
    if test == "wilcoxon":
        return wilcoxon(a, b)
    if test == "diebold_mariano":
        return diebold_mariano(a, b, horizon)
    raise ValueError(f"unknown paired test {test!r} (choose from {', '.join(TESTS)})")
