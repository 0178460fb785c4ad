"""The baseline that forecasts series too short for the network's lookback.

A series with fewer than ``lookback`` points cannot be read by the network. When the packaged
state names a fallback (the comparison's best baseline), that baseline forecasts it on the
original scale and the output says so in its ``forecaster`` column; a model without one (format
version 1) refuses such a series, naming it.
"""

from __future__ import annotations

import dataclasses
import logging

import numpy as np
import pandas as pd
from pandas.tseries.frequencies import to_offset

from forecasting.data import ID, TARGET, TIME, SeriesData
from forecasting.models.baselines import naive, seasonal_naive
from forecasting.packaging.state import PackagedState

log = logging.getLogger(__name__)


def split_short(
    data: SeriesData, state: PackagedState
) -> tuple[SeriesData | None, SeriesData | None]:
    """``(forecast by the network, left to the fallback)``; either may be None.

    The fallback takes every series with fewer than ``lookback`` points and every series the
    comparison left out of training (too short then for training windows).
    """
    if state.is_baseline:
        return None, data  # a packaged baseline forecasts every series
    if state.fallback is None:
        return data, None  # the windowing refuses a short series in one line
    lengths = data.frame.groupby(ID, sort=False).size()
    short_ids = set(lengths.index[lengths < state.lookback]) | (
        set(state.left_out) & set(lengths.index)
    )
    if not short_ids:
        return data, None
    log.info(
        "%d series shorter than the lookback %d or left out of training: forecast by %s",
        len(short_ids),
        state.lookback,
        state.fallback,
    )
    is_short = data.frame[ID].isin(short_ids)

    def part(mask):
        return (
            dataclasses.replace(data, frame=data.frame[mask].reset_index(drop=True))
            if mask.any()
            else None
        )

    return part(~is_short), part(is_short)


def baseline_forecasts(
    data: SeriesData | None, state: PackagedState
) -> dict[str, tuple[pd.DatetimeIndex, np.ndarray]]:
    """The fallback's next ``horizon`` values of each series: ``{id: (times, values)}``.

    Seasonal naive repeats the last full season; a series shorter than one season, or with a
    gap in it, repeats its last observed value instead.
    """
    if data is None:
        return {}
    H, m = state.horizon, state.period
    offset = to_offset(data.freq)
    out = {}
    for uid, part in data.frame.groupby(ID, sort=False):
        y = part[TARGET].to_numpy(dtype=np.float64)
        observed = y[~np.isnan(y)]
        if len(observed) == 0:
            continue  # nothing to repeat; validation has already refused an all-empty series
        origin = np.array([len(y) - 1])
        if state.fallback == "seasonal_naive" and not np.isnan(y[-m:]).any():
            values = seasonal_naive(y, origin, H, m)[
                0
            ]  # the backtest's own baseline, at the last origin
        elif not np.isnan(y[-1]):
            values = naive(y, origin, H)[0]
        else:  # a gap in the last season or at the end: the last observed value
            values = np.repeat(observed[-1], H)
        times = pd.date_range(pd.Timestamp(part[TIME].iloc[-1]), periods=H + 1, freq=offset)[1:]
        out[str(uid)] = (times, values)
    return out
