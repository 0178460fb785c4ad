"""Infer a frequency, put every series on its regular grid and fill the gaps by policy."""

from __future__ import annotations

import logging
from enum import StrEnum

import numpy as np
import pandas as pd
from pandas.tseries.frequencies import to_offset

from forecasting.data.frequency import fixed_step, freq_name
from forecasting.data.schema import ID, TARGET, TIME
from forecasting.data.validation import ROW
from forecasting.errors import DataError

log = logging.getLogger(__name__)


class FillPolicy(StrEnum):
    """What to do with missing timestamps and missing values."""

    INTERPOLATE = "interpolate"  # linear in time; edges take the nearest value
    FFILL = "ffill"  # carry the last observation forward; a leading gap takes the first
    DROP = "drop"  # leave gaps missing: windows that touch one are dropped


def infer_frequency(frame: pd.DataFrame, source: str, time_col: str) -> pd.DateOffset:
    """The most common step between consecutive timestamps, or pandas' guess for calendar steps."""
    diffs = frame.groupby(ID, sort=False)[TIME].diff().dropna()
    if diffs.empty:
        raise DataError(
            f"{source}: column {time_col!r}: cannot infer a frequency from one timestamp per series; pass --freq"
        )
    step = diffs.mode().iloc[0]
    if step < pd.Timedelta(days=28):
        return to_offset(step)
    # Months, quarters and years have unequal steps: ask pandas on the longest series.
    longest = frame.groupby(ID, sort=False).size().idxmax()
    times = pd.DatetimeIndex(frame.loc[frame[ID] == longest, TIME])
    guess = pd.infer_freq(times) if len(times) >= 3 else None
    if guess is None:  # pandas needs a gapless run; fall back to calendar grids the stamps fit
        guess = _calendar_guess(times, step)
    if guess is None:
        raise DataError(
            f"{source}: column {time_col!r}: cannot infer the frequency (steps of {step}); pass --freq"
        )
    return to_offset(guess)


# Calendar frequencies tried when pandas cannot infer one (e.g. a monthly series with a gap):
# alias and the range of the most common step, in days, that fits it. Coarsest first.
CALENDAR_STEPS = (
    ("YS", 365, 366),
    ("YE", 365, 366),
    ("QS", 89, 92),
    ("QE", 89, 92),
    ("MS", 28, 31),
    ("ME", 28, 31),
)


def _calendar_guess(times: pd.DatetimeIndex, step: pd.Timedelta) -> str | None:
    for alias, low, high in CALENDAR_STEPS:
        if low <= step / pd.Timedelta(days=1) <= high:
            grid = pd.date_range(times[0], times[-1], freq=alias)
            if times.isin(grid).all():
                return alias
    return None


def check_grid(frame: pd.DataFrame, offset: pd.DateOffset, source: str, time_col: str) -> None:
    """Every timestamp of a series must lie on the grid that starts at its first timestamp."""
    step = fixed_step(offset)
    first = frame.groupby(ID, sort=False)[TIME].transform("first")
    # Time-zone aware stamps are checked against the grid regularize() builds: daily steps
    # follow the local clock across a DST change, so they are not a fixed number of hours.
    if step is not None and frame[TIME].dt.tz is None:
        elapsed = (frame[TIME] - first).to_numpy().astype("timedelta64[ns]").astype(np.int64)
        off = pd.Series(elapsed % step.value != 0, index=frame.index)
    else:
        off = pd.Series(False, index=frame.index)
        for _, times in frame.groupby(ID, sort=False)[TIME]:
            grid = pd.date_range(times.iloc[0], times.iloc[-1], freq=offset)
            off[times.index] = ~times.isin(grid)
    if off.any():  # report the offending record that comes first in the user's file
        _off_grid(frame, frame.loc[off, ROW].idxmin(), offset, source, time_col)


def _off_grid(frame, at, offset, source, time_col) -> None:
    raise DataError(
        f"{source}: column {time_col!r}: mixed frequencies within series {frame.at[at, ID]!r}: "
        f"timestamp {frame.at[at, TIME]} at row {frame.at[at, ROW]} is off its "
        f"{freq_name(offset)} grid"
    )


def regularize(
    frame: pd.DataFrame, offset: pd.DateOffset, policy: FillPolicy, value_cols: list[str]
) -> tuple[pd.DataFrame, dict[str, int]]:
    """Reindex each series to its full grid and fill gaps by ``policy``.

    Returns the regular frame (without the ``_row`` column) and, per series, the
    number of target points that were missing (absent timestamps or empty values).
    """
    parts, filled = [], {}
    for uid, part in frame.groupby(ID, sort=False):
        part = part.set_index(TIME)
        grid = pd.date_range(part.index[0], part.index[-1], freq=offset, name=TIME)
        values = part[value_cols].reindex(grid)
        filled[uid] = int(values[TARGET].isna().sum())
        if policy is FillPolicy.INTERPOLATE:
            values = values.interpolate(method="linear", limit_direction="both")
        elif policy is FillPolicy.FFILL:
            values = values.ffill().bfill()
        values.insert(0, ID, uid)
        parts.append(values.reset_index())
    out = pd.concat(parts, ignore_index=True)[[ID, TIME, *value_cols]]
    return out, filled
