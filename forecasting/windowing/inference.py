"""The latest window of each series, ready for a forecast of the next H steps."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd
from pandas.tseries.frequencies import to_offset
from sklearn.preprocessing import StandardScaler

from forecasting.data import ID, TARGET, TIME, SeriesData
from forecasting.data.frequency import fixed_step
from forecasting.errors import DataError
from forecasting.windowing.calendar import calendar_features
from forecasting.windowing.scaling import fit_scaler, transform

log = logging.getLogger(__name__)


@dataclass
class LatestWindows:
    inputs: dict[str, np.ndarray]  # past [S, L, F], future [S, H, K] (, channel [S])
    ids: list[str]
    scalers: list[StandardScaler]
    future_times: list[pd.DatetimeIndex]


def check_history(
    data: SeriesData, lookback: int, cut: str = "", short_allowed: bool = False
) -> None:
    """Every series needs ``lookback`` points without gaps at its end to forecast from.

    With ``short_allowed`` a series with fewer points passes (a fallback baseline forecasts it).

    Raises:
        DataError: naming the first series that has too few points or a gap in its last
            ``lookback``; ``cut`` (e.g. " at or before 2024-01-01") says which history was used.
    """
    for uid, part in data.frame.groupby(ID, sort=False):
        where = f"{data.source}: column {data.columns.target_label!r}: series {uid!r}"
        if len(part) < lookback:
            if short_allowed:
                continue
            raise DataError(
                f"{where} has {len(part)} points{cut}, the model needs at least lookback = {lookback}"
            )
        if part[[TARGET, *data.covariates]].tail(lookback).isna().to_numpy().any():
            raise DataError(
                f"{where} has gaps in its last {lookback} points{cut} (use fill policy interpolate or ffill)"
            )


def latest_windows(
    data: SeriesData,
    lookback: int,
    horizon: int,
    scalers: dict[str, StandardScaler],
    channels: tuple[str, ...] = (),
) -> LatestWindows:
    """Cut the last ``lookback`` steps of every series and the calendar of the next ``horizon``.

    Series the model was trained on use their training scaler; a new series is scaled
    with a scaler fitted on the history given here (the model does not use series identity).
    With ``channels`` (a multichannel target's columns, in the network's order) each window
    also carries the index of its series' column.
    """
    check_history(data, lookback)
    offset = to_offset(data.freq)
    step = fixed_step(data.freq)
    past, future, ids, used, times = [], [], [], [], []
    for uid, part in data.frame.groupby(ID, sort=False):
        values = part[[TARGET, *data.covariates]].to_numpy(dtype=np.float64)
        last = values[-lookback:]
        scaler = scalers.get(uid)
        if scaler is None:
            log.info("series %r was not seen in training: scaling it by its own history", uid)
            scaler = fit_scaler(values)
        stamps = pd.DatetimeIndex(part[TIME])
        ahead = pd.date_range(stamps[-1], periods=horizon + 1, freq=offset)[1:]
        cal_past = calendar_features(stamps[-lookback:], step)
        past.append(np.concatenate([transform(scaler, last), cal_past], axis=1))
        future.append(calendar_features(ahead, step))
        ids.append(uid)
        used.append(scaler)
        times.append(ahead)
    inputs = {
        "past": np.stack(past).astype(np.float32),
        "future": np.stack(future).astype(np.float32),
    }
    if channels:
        index = {c: i for i, c in enumerate(channels)}
        inputs["channel"] = np.array([index[data.channels[u]] for u in ids], dtype=np.int32)
    return LatestWindows(
        inputs=inputs,
        ids=ids,
        scalers=used,
        future_times=times,
    )
