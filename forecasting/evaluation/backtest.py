"""Rolling-origin backtest on the held-out tail of each series, on the original scale.

The test split's windows roll their origin through K folds (cutoffs spread over
the tail); each model is trained once on the training part and scored on every
backtest window, as are the baselines, so all are compared on the same windows.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from forecasting.evaluation.metrics import (
    aggregate,
    mase_scale,
    per_series,
    point_metrics,
    window_scaled_errors,
)
from forecasting.models.baselines import naive, seasonal_naive
from forecasting.windowing import WindowedData


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


def model_backtest(
    name: str, model, data: WindowedData, period: int, batch_size: int = 1024
) -> Backtest:
    """Forecast every test window with a trained Keras model and score it; times inference."""
    test = data.splits["test"]
    model.predict({k: v[:batch_size] for k, v in test.inputs.items()}, verbose=0)  # warm-up
    seconds = []
    for _ in range(3):  # best of three: one call on a shared 2-core machine is noisy
        started = time.perf_counter()
        scaled = model.predict(test.inputs, batch_size=batch_size, verbose=0)
        seconds.append(time.perf_counter() - started)
    ms = 1000.0 * min(seconds) / max(len(test), 1)
    result = evaluate(name, data, data.inverse(scaled, test.series), period)
    result.inference_ms_per_window = ms
    return result


def baseline_backtest(kind: str, data: WindowedData, period: int) -> Backtest:
    """``naive`` or ``seasonal_naive`` forecasts on exactly the test windows."""
    test, H = data.splits["test"], data.spec.horizon
    out = np.empty(test.target.shape, dtype=np.float64)
    for i, s in enumerate(data.series):
        rows = np.flatnonzero(test.series == i)
        if not len(rows):
            continue
        y = s.values[:, 0]
        origins = test.origin[rows]
        out[rows] = (
            naive(y, origins, H) if kind == "naive" else seasonal_naive(y, origins, H, period)
        )
    return evaluate(kind, data, out, period)


__all__ = [
    "Backtest",
    "baseline_backtest",
    "evaluate",
    "mase_scales",
    "model_backtest",
    "point_metrics",
]
