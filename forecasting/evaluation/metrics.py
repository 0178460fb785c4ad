"""Point-forecast errors with the M4 competition's definitions.

sMAPE = mean(200 |y - ŷ| / (|y| + |ŷ|)); MASE = mean |y - ŷ| / mean |y_t - y_{t-m}|
over the in-sample (training) part of the series, m the seasonal period.
A metric that a series makes undefined (zero scale, zero denominators) is NaN
for that series and reported by name; it is never averaged in silently.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from forecasting.config import METRICS

log = logging.getLogger(__name__)


def mase_scale(insample: np.ndarray, period: int) -> float:
    """Mean absolute seasonal difference of the in-sample values (NaNs ignored)."""
    if len(insample) <= period:
        return float("nan")
    diffs = np.abs(insample[period:] - insample[:-period])
    scale = float(np.nanmean(diffs))
    return scale if scale > 0 else float("nan")


def smape(y: np.ndarray, y_hat: np.ndarray) -> float:
    denom = np.abs(y) + np.abs(y_hat)
    ok = denom > 0
    if not ok.all():
        return float("nan")
    return float(np.mean(200.0 * np.abs(y - y_hat) / denom))


def point_metrics(y: np.ndarray, y_hat: np.ndarray, scale: float) -> dict[str, float]:
    err = y - y_hat
    mae = float(np.mean(np.abs(err)))
    return {
        "mae": mae,
        "rmse": float(np.sqrt(np.mean(err**2))),
        "smape": smape(y, y_hat),
        "mase": mae / scale if np.isfinite(scale) else float("nan"),
    }


def per_series(
    ids: list[str], series: np.ndarray, y: np.ndarray, y_hat: np.ndarray, scales: np.ndarray
) -> pd.DataFrame:
    """One row of metrics per series (index = series id)."""
    rows = {}
    for i, uid in enumerate(ids):
        sel = series == i
        if sel.any():
            rows[uid] = point_metrics(y[sel], y_hat[sel], scales[i])
    return pd.DataFrame.from_dict(rows, orient="index", columns=list(METRICS))


def aggregate(
    table: pd.DataFrame, label: str = "", warn: bool = True
) -> tuple[dict[str, float], dict[str, list[str]]]:
    """Mean over series (M4 style) and, per metric, the series for which it is undefined
    (logged once as a warning unless ``warn`` is False, e.g. for a subset already reported)."""
    undefined = {m: list(table.index[table[m].isna()]) for m in METRICS if table[m].isna().any()}
    for metric, ids in undefined.items() if warn else ():
        log.warning(
            "%s%s is undefined for series %s and left out of the mean",
            label and f"{label}: ",
            metric,
            ids,
        )
    means = {m: float(table[m].mean()) if table[m].notna().any() else float("nan") for m in METRICS}
    return means, undefined


def window_scaled_errors(
    y: np.ndarray, y_hat: np.ndarray, series: np.ndarray, scales: np.ndarray
) -> np.ndarray:
    """[N] mean absolute error of each window divided by its series' MASE scale."""
    return np.mean(np.abs(y - y_hat), axis=1) / scales[series]
