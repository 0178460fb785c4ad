"""Naive baselines computed on exactly the windows the networks are scored on."""

from __future__ import annotations

import numpy as np
import pandas as pd

from forecasting.data.frequency import fixed_step

# Seasonal period by the frequency's step (M4 convention: 24 for hourly).
_PERIODS = {
    pd.Timedelta(minutes=1): 1440,
    pd.Timedelta(minutes=5): 288,
    pd.Timedelta(minutes=10): 144,
    pd.Timedelta(minutes=15): 96,
    pd.Timedelta(minutes=30): 48,
    pd.Timedelta(hours=1): 24,
    pd.Timedelta(days=1): 7,
    pd.Timedelta(days=7): 52,
}
# Offsets without a fixed length, by the first letter of their rule code (business-day
# variants such as "BMS" count like their calendar twin).
_CALENDAR_PERIODS = {"W": 52, "M": 12, "Q": 4, "Y": 1, "A": 1}


def seasonal_period(freq: str) -> int:
    """Season length for a pandas frequency string; 1 when no season is known."""
    offset = pd.tseries.frequencies.to_offset(freq)
    step = fixed_step(offset)
    if step is None:
        base = offset.name.split("-")[0]
        if base in ("B", "C"):  # business days: a working week
            return 5
        return _CALENDAR_PERIODS.get(base.lstrip("BC")[:1], 1)
    return _PERIODS.get(step, 1)


def naive(values: np.ndarray, origins: np.ndarray, horizon: int) -> np.ndarray:
    """Repeat the last observed value: [N, H]."""
    return np.repeat(values[origins][:, None], horizon, axis=1)


def seasonal_naive(
    values: np.ndarray, origins: np.ndarray, horizon: int, period: int
) -> np.ndarray:
    """Repeat the last observed season: step h takes y[o + h - m * ceil(h / m)].

    An origin with less than one season of history before it repeats its last value instead
    (the naive forecast), as the networks' skip connection does for a lookback shorter than m.
    """
    h = np.arange(1, horizon + 1)
    back = period * np.ceil(h / period).astype(int)
    idx = origins[:, None] + h[None, :] - back[None, :]
    short = (idx < 0).any(axis=1)
    idx[short] = origins[short, None]  # [N, H]: the last value, for origins without a full season
    return values[idx]
