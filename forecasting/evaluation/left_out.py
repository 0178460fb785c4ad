"""The backtest of the series left out of training, by the baseline that forecasts them.

A series too short for the network's windows (or over the fill bound) is forecast by the best
baseline when it is served, so it is backtested by that baseline too: the last ``horizon``
points of the series are held out, then the ``horizon`` before them, and so on for at most
``folds`` origins while at least one point stays observed. Each origin's forecast uses only the
points before it; the MASE scale is the in-sample seasonal difference before the earliest
origin (the last value when that part is shorter than a season; undefined, and reported so,
when it holds a single point). A series with ``horizon`` points or fewer cannot be backtested
and is said so in the table.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

import numpy as np
import pandas as pd

from forecasting.config import METRICS
from forecasting.evaluation.metrics import aggregate, mase_scale, point_metrics
from forecasting.models.baselines import naive, seasonal_naive

log = logging.getLogger(__name__)


def backtest_origins(n: int, horizon: int, folds: int) -> np.ndarray:
    """Origins (index of the last observed point) of a series of ``n`` points: the last
    ``horizon`` held out, then the ``horizon`` before, at most ``folds``, oldest first."""
    origins = [n - 1 - horizon * (k + 1) for k in range(folds)]
    return np.array(sorted(o for o in origins if o >= 0), dtype=np.int64)


def left_out_backtest(
    series: Mapping[str, np.ndarray],
    kind: str,
    horizon: int,
    period: int,
    folds: int,
) -> tuple[pd.DataFrame, dict[str, float]]:
    """Backtest ``kind`` (``naive`` or ``seasonal_naive``) on ``series`` (id -> target values,
    oldest first, NaN where the drop policy kept a gap).

    Returns:
        One row per series (index: id) with ``origins`` (how many were backtested) and the
        metrics of :data:`forecasting.config.METRICS` (NaN where a series has too few points),
        and their mean over the series that have them.
    """
    rows = {}
    for uid, values in series.items():
        y = np.asarray(values, dtype=np.float64)
        origins = backtest_origins(len(y), horizon, folds)
        if not len(origins):
            rows[str(uid)] = {"origins": 0} | dict.fromkeys(METRICS, float("nan"))
            continue
        insample = y[: origins[0] + 1]
        m = period if len(insample) > period else 1
        if kind == "naive":
            forecasts = naive(y, origins, horizon)
        else:
            forecasts = seasonal_naive(y, origins, horizon, period)
        actual = y[origins[:, None] + np.arange(1, horizon + 1)]
        observed = ~np.isnan(actual)  # the drop policy keeps gaps as NaN
        rows[str(uid)] = {"origins": len(origins)} | point_metrics(
            actual[observed], forecasts[observed], mase_scale(insample, m)
        )
    table = pd.DataFrame.from_dict(rows, orient="index", columns=["origins", *METRICS])
    table["origins"] = table["origins"].astype(int)
    scored = table[table["origins"] > 0]
    summary, _ = aggregate(scored, f"{kind} on left-out series", warn=False)
    if len(scored) < len(table):
        log.info(
            "%d left-out series have %d points or fewer and cannot be backtested",
            len(table) - len(scored),
            horizon,
        )
    return table, summary
