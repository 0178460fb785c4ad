"""One past forecast scored against the actuals that have arrived since its as-of time.

Observed points: forecast rows with a time after the as-of time (``t > as_of``; a forecast
covers ``as_of + 1 .. as_of + H`` steps) for which the actuals hold a value. A forecast is
*complete* once the actuals reach its last forecast time (a point missing then stays missing);
before that it is scored on what is observed and marked partial.

The errors are the backtest's (:mod:`forecasting.evaluation.metrics`, M4 definitions): per
series MAE, RMSE, sMAPE and MASE, the file's as the mean over series. MASE divides by the
mean absolute seasonal difference of the series' history before the forecast, and the best
baseline of the model's comparison (naive or seasonal naive) is forecast from that same history
and scored on the same points, so a worse error with a worse baseline says the data got harder,
and a worse error with a steady baseline says the model got worse. The history comes from the
actuals file itself: it should reach back more than one season before each forecast; where it
does not, MASE is undefined (and said so), and the seasonal naive baseline repeats the last value.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from forecasting.config import METRICS
from forecasting.data.schema import ID, TARGET, TIME, channel_id
from forecasting.evaluation.metrics import aggregate, mase_scale, point_metrics
from forecasting.models.baselines import naive, seasonal_naive
from forecasting.monitoring.past import PastForecast
from forecasting.packaging.layout import TARGET_COLUMN, Y_HAT, interval_columns

log = logging.getLogger(__name__)

BASELINE = "baseline_"  # prefix of the baseline's metrics beside the model's


@dataclass
class ScoredForecast:
    """The realised errors of one forecast file."""

    forecast: PastForecast
    complete: bool  # the actuals reach the forecast's last time
    points: int  # observed forecast points
    expected: int  # forecast points after the as-of time
    summary: dict[str, float]  # mase, smape, mae, rmse, coverage_<p>, baseline_<metric>
    per_series: pd.DataFrame  # index: series id; the model's and the baseline's metrics, points
    notes: list[str] = field(default_factory=list)

    @property
    def status(self) -> str:
        return "complete" if self.complete else f"partial ({self.points} of {self.expected})"


def baseline_forecast(history: np.ndarray, steps: int, name: str, period: int) -> np.ndarray:
    """The baseline ``name``'s next ``steps`` values after ``history`` (NaN when it is empty)."""
    if len(history) == 0:
        return np.full(steps, np.nan)
    origins = np.array([len(history) - 1])
    if name == "seasonal_naive":
        return seasonal_naive(history, origins, steps, period)[0]
    return naive(history, origins, steps)[0]


def _canonical(forecast: PastForecast) -> pd.DataFrame:
    """The forecast with canonical id and time columns; a multichannel target's rows get the id
    of their (series, target column), as the actuals loaded with the model's columns have."""
    frame = forecast.frame
    multichannel = TARGET_COLUMN in frame.columns
    id_col, time_col = frame.columns[0], frame.columns[2 if multichannel else 1]
    out = frame.rename(columns={id_col: ID, time_col: TIME})
    out[ID] = out[ID].astype(str)
    if multichannel:
        targets = out.pop(TARGET_COLUMN).astype(str)
        out[ID] = [channel_id(u, t) for u, t in zip(out[ID], targets, strict=True)]
    out[TIME] = pd.to_datetime(out[TIME])
    return out.sort_values([ID, TIME], kind="stable").reset_index(drop=True)


def score_forecast(
    forecast: PastForecast, actuals: pd.DataFrame, period: int, baseline: str
) -> ScoredForecast:
    """Score ``forecast`` on ``actuals`` (canonical long format: ``unique_id, ds, y``).

    Args:
        period: the season length m of MASE's scale and of the seasonal naive baseline.
        baseline: ``naive`` or ``seasonal_naive``, forecast from each series' history.
    """
    fc = _canonical(forecast)
    notes: list[str] = []
    actual_end = actuals[TIME].max()
    by_id = {uid: part for uid, part in actuals.groupby(ID, sort=False)}
    rows, pooled = {}, []
    for uid, part in fc.groupby(ID, sort=False):
        series = by_id.get(uid)
        history = (
            series.loc[series[TIME] < part[TIME].min(), TARGET].to_numpy(np.float64)
            if series is not None
            else np.array([])
        )
        part = part.assign(base=baseline_forecast(history, len(part), baseline, period))
        part = part[part[TIME] > forecast.as_of]
        if series is None:
            notes.append(f"series {uid}: not in the actuals")
            continue
        joined = part.merge(series[[TIME, TARGET]], on=TIME, how="inner")
        joined = joined[np.isfinite(joined[TARGET].to_numpy(np.float64))]
        if joined.empty:
            continue
        scale = mase_scale(history, period)
        if len(history) <= period:
            notes.append(
                f"series {uid}: the actuals reach back {len(history)} points before the "
                f"forecast, not more than one season ({period}): MASE undefined"
            )
        y = joined[TARGET].to_numpy(np.float64)
        row = point_metrics(y, joined[Y_HAT].to_numpy(np.float64), scale)
        base = joined["base"].to_numpy(np.float64)
        ok = np.isfinite(base)
        if ok.any():
            row |= {BASELINE + k: v for k, v in point_metrics(y[ok], base[ok], scale).items()}
        row["points"] = len(joined)
        rows[uid] = row
        pooled.append(joined)
    columns = list(METRICS) + [BASELINE + m for m in METRICS] + ["points"]
    table = pd.DataFrame.from_dict(rows, orient="index", columns=columns).rename_axis("series")
    label = str(forecast.path)
    summary: dict[str, float] = {}
    if rows:
        summary |= aggregate(table[list(METRICS)], label)[0]
        base_table = table[[BASELINE + m for m in METRICS]]
        base_table.columns = list(METRICS)
        summary |= {BASELINE + k: v for k, v in aggregate(base_table, label, warn=False)[0].items()}
    else:
        summary |= {m: float("nan") for m in METRICS} | {
            BASELINE + m: float("nan") for m in METRICS
        }
    observed = pd.concat(pooled) if pooled else pd.DataFrame()
    for level in forecast.levels:
        lo, hi = interval_columns(level)
        if observed.empty:
            summary[f"coverage_{level}"] = float("nan")
            continue
        inside = (observed[lo] <= observed[TARGET]) & (observed[TARGET] <= observed[hi])
        summary[f"coverage_{level}"] = float(inside.mean())
    expected = int((fc[TIME] > forecast.as_of).sum())
    before = len(fc) - expected
    if before:
        notes.append(f"{before} forecast points at or before the as-of time are not scored")
    points = int(table["points"].sum()) if rows else 0
    complete = bool(expected) and actual_end >= fc.loc[fc[TIME] > forecast.as_of, TIME].max()
    summary["points"] = float(points)
    return ScoredForecast(forecast, complete, points, expected, summary, table, notes)
