"""Known-future calendar features derived from timestamps (sine/cosine encodings)."""

from __future__ import annotations

import numpy as np
import pandas as pd


def _cycle(values: np.ndarray, period: float, name: str) -> dict[str, np.ndarray]:
    angle = 2.0 * np.pi * values / period
    return {f"{name}_sin": np.sin(angle), f"{name}_cos": np.cos(angle)}


def calendar_feature_names(step: pd.Timedelta | None) -> list[str]:
    names = []
    if step is not None and step < pd.Timedelta(days=1):
        names += ["hour_sin", "hour_cos"]
    if step is not None and step < pd.Timedelta(days=7):
        names += ["dow_sin", "dow_cos"]
    names += ["doy_sin", "doy_cos"]
    return names


def calendar_features(times: pd.DatetimeIndex, step: pd.Timedelta | None) -> np.ndarray:
    """[T] timestamps -> [T, K] float32 features, K depending on the step size.

    Sub-daily data gets hour of day, sub-weekly data day of week, and every
    frequency gets day of year. Time-zone aware stamps use their local clock.
    """
    times = pd.DatetimeIndex(times)
    feats: dict[str, np.ndarray] = {}
    if step is not None and step < pd.Timedelta(days=1):
        hours = times.hour.to_numpy() + times.minute.to_numpy() / 60.0
        feats |= _cycle(hours, 24.0, "hour")
    if step is not None and step < pd.Timedelta(days=7):
        feats |= _cycle(times.dayofweek.to_numpy(), 7.0, "dow")
    feats |= _cycle(times.dayofyear.to_numpy() - 1, 365.25, "doy")
    return np.stack([feats[n] for n in calendar_feature_names(step)], axis=-1).astype(np.float32)
