"""Rolling-origin backtest on the held-out tail of each series, on the original scale.

The test split's windows roll their origin through K folds (cutoffs spread over
the tail); each model is trained once on the training part and scored on every
backtest window, as are the baselines, so all are compared on the same windows.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from forecasting.evaluation.intervals import IntervalBacktest, interval_backtest
from forecasting.evaluation.metrics import (
    aggregate,
    mase_scale,
    per_series,
    point_metrics,
    window_scaled_errors,
)
from forecasting.models.baselines import naive, seasonal_naive
from forecasting.windowing import WindowedData
from forecasting.windowing.dataset import rows_by_series

log = logging.getLogger(__name__)


@dataclass
class Backtest:
    """Forecasts and errors of one forecaster on the test windows."""

    name: str
    forecasts: np.ndarray  # [N, H] original scale
    per_series: pd.DataFrame  # one row per series
    summary: dict[str, float]  # mean over series
    per_fold: pd.DataFrame  # one row per fold (all series pooled)
    window_errors: np.ndarray  # [N] MAE of each window / its series' MASE scale
    undefined: dict[str, list[str]] = field(default_factory=dict)
    inference_ms_per_window: float = float("nan")
    intervals: IntervalBacktest | None = None  # with ``levels``: calibrated on validation windows


def mase_scales(data: WindowedData, period: int) -> np.ndarray:
    """[S] in-sample scale of each series, from its training part only."""
    return np.array([mase_scale(s.values[: s.split.train_end, 0], period) for s in data.series])


def evaluate(name: str, data: WindowedData, forecasts: np.ndarray, period: int) -> Backtest:
    test = data.splits["test"]
    y = data.actuals(test)
    scales = mase_scales(data, period)
    table = per_series(data.ids, test.series, y, forecasts, scales)
    summary, undefined = aggregate(table, name)
    folds = {}
    for k in np.unique(test.fold):
        sel = test.fold == k
        per_fold_series = per_series(data.ids, test.series[sel], y[sel], forecasts[sel], scales)
        folds[int(k)] = aggregate(per_fold_series, warn=False)[0]  # reported above
    per_fold = pd.DataFrame.from_dict(folds, orient="index").rename_axis("fold")
    errors = window_scaled_errors(y, forecasts, test.series, scales)
    return Backtest(name, forecasts, table, summary, per_fold, errors, undefined)


def _with_intervals(
    result: Backtest, data: WindowedData, val_forecasts: np.ndarray, period: int, levels
) -> Backtest:
    """Add the conformal intervals of ``levels`` (calibrated on ``val_forecasts``) to ``result``."""
    result.intervals = interval_backtest(
        data, val_forecasts, result.forecasts, period, levels, mase_scales(data, period)
    )
    result.summary |= result.intervals.summary
    return result


def model_backtest(
    name: str,
    model,
    data: WindowedData,
    period: int,
    batch_size: int = 1024,
    levels: Sequence[int] | None = None,
) -> Backtest:
    """Forecast every test window with a trained Keras model and score it; times inference.

    With ``levels`` (possibly empty) the model's forecasts of the validation windows calibrate
    conformal intervals (:mod:`forecasting.evaluation.intervals`), scored on the test windows:
    ``coverage_<p>``, ``width_<p>`` and ``msis_<p>`` join the summary.
    """
    test = data.splits["test"]
    log.info("%s backtest: %d windows of %d series", name, len(test), len(np.unique(test.series)))
    # Each batch's windows are gathered inside the input pipeline: the whole backtest's
    # lookbacks are never held at once.
    model.predict(test.dataset(batch_size).take(1), verbose=0)  # warm-up
    seconds = []
    for _ in range(3):  # best of three: one call on a shared 2-core machine is noisy
        started = time.perf_counter()
        scaled = model.predict(test.dataset(batch_size), verbose=0)
        seconds.append(time.perf_counter() - started)
    ms = 1000.0 * min(seconds) / max(len(test), 1)
    result = evaluate(name, data, data.inverse(scaled, test.series), period)
    result.inference_ms_per_window = ms
    if levels is not None:
        val = data.splits["val"]
        val_scaled = model.predict(val.dataset(batch_size), verbose=0)
        _with_intervals(result, data, data.inverse(val_scaled, val.series), period, levels)
    return result


def baseline_forecasts(kind: str, data: WindowedData, windows, period: int) -> np.ndarray:
    """[N, H] ``naive`` or ``seasonal_naive`` forecasts of ``windows`` on the original scale."""
    H = data.spec.horizon
    out = np.empty((len(windows), H), dtype=np.float64)
    short = 0
    for i, rows in rows_by_series(windows.series):
        y = data.series[i].values[:, 0]
        origins = windows.origin[rows]
        out[rows] = (
            naive(y, origins, H) if kind == "naive" else seasonal_naive(y, origins, H, period)
        )
        if kind == "seasonal_naive":
            short += int((origins + 1 < period).sum())
    if short:
        log.info(
            "seasonal naive: %d of %d windows have less than one season (%d steps) before their "
            "origin and repeat the last value instead",
            short,
            len(windows.origin),
            period,
        )
    return out


def baseline_backtest(
    kind: str, data: WindowedData, period: int, levels: Sequence[int] | None = None
) -> Backtest:
    """``naive`` or ``seasonal_naive`` forecasts on exactly the test windows; with ``levels``,
    intervals built the same way as a model's (calibrated on its validation forecasts)."""
    test = data.splits["test"]
    log.info("%s backtest: %d windows of %d series", kind, len(test), len(np.unique(test.series)))
    result = evaluate(
        kind, data, baseline_forecasts(kind, data, data.splits["test"], period), period
    )
    if levels is not None:
        val = baseline_forecasts(kind, data, data.splits["val"], period)
        _with_intervals(result, data, val, period, levels)
    return result


__all__ = [
    "Backtest",
    "baseline_backtest",
    "baseline_forecasts",
    "evaluate",
    "mase_scales",
    "model_backtest",
    "point_metrics",
]
