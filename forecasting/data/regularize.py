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


def nominal_step(offset: pd.DateOffset) -> pd.Timedelta:
    """The step of ``offset``; for calendar frequencies its longest (a month: 31 days)."""
    step = fixed_step(offset)
    if step is not None:
        return step
    return pd.date_range("2001-01-01", periods=13, freq=offset).to_series().diff().max()


def _steps_name(step: pd.Timedelta) -> str:
    return freq_name(to_offset(step))


# Below this share of consecutive timestamps one --freq step apart, --freq is not the data's.
MIN_ON_STEP = 0.01


def refuse_finer_freq(frame: pd.DataFrame, offset: pd.DateOffset, source: str, time_col: str):
    """A ``--freq`` finer than the data (its most common step is coarser, and hardly any two
    timestamps are one ``--freq`` step apart) would invent most points: refused, naming the
    first record at the data's step in the file."""
    diffs = frame.groupby(ID, sort=False)[TIME].diff().dropna()
    if diffs.empty:
        return
    step = nominal_step(offset)
    modal = diffs.mode().iloc[0]
    on_step = diffs == step if fixed_step(offset) is not None else diffs <= step
    if modal <= 1.5 * step or on_step.mean() >= MIN_ON_STEP:
        return
    at = frame.loc[diffs.index[diffs == modal], ROW].idxmin()
    raise DataError(
        f"{source}: column {time_col!r}: --freq {freq_name(offset)} is finer than the data: most "
        f"timestamps are {_steps_name(modal)} apart (first {frame.at[at, TIME]} at row "
        f"{frame.at[at, ROW]}); pass --freq {_steps_name(modal)} or leave --freq out"
    )


def fill_causes(frame: pd.DataFrame, offset: pd.DateOffset) -> dict[str, str]:
    """The likely cause of invented points, per series where the timestamps show one: its
    spacing is coarser than the grid, or it changes at a row (two steps off the grid in a row:
    a gap is one)."""
    step = nominal_step(offset)
    diffs = frame.groupby(ID, sort=False)[TIME].diff()
    on_step = diffs == step if fixed_step(offset) is not None else diffs <= step
    off = diffs.notna() & ~on_step
    causes: dict[str, str] = {}
    if not off.any():
        return causes
    name = freq_name(offset)
    following = diffs.groupby(frame[ID], sort=False).shift(-1)
    change = off & off.groupby(frame[ID], sort=False).shift(-1, fill_value=False)
    for at in frame.index[change].to_series().groupby(frame.loc[change, ID], sort=False).first():
        causes[str(frame.at[at, ID])] = (
            f"mixed frequencies: the spacing changes from {name} to "
            f"{_steps_name(following[at])} at row {frame.at[at, ROW]}"
        )
    counts = pd.DataFrame({ID: frame[ID], "d": diffs}).dropna().value_counts(sort=True)
    modal = counts.reset_index().drop_duplicates(ID).set_index(ID)["d"]
    for uid, d in modal[modal > 1.5 * step].items():  # only the series that have one
        causes[str(uid)] = (
            f"mixed frequencies: its timestamps are {_steps_name(d)} apart, coarser than the "
            f"{name} grid of the file"
        )
    return causes


def _longest_run(missing: np.ndarray) -> int:
    """The longest run of True in ``missing``."""
    if not missing.any():
        return 0
    edges = np.diff(np.concatenate(([0], missing.astype(np.int8), [0])))
    return int((np.flatnonzero(edges == -1) - np.flatnonzero(edges == 1)).max())


def regularize(
    frame: pd.DataFrame, offset: pd.DateOffset, policy: FillPolicy, value_cols: list[str]
) -> tuple[pd.DataFrame, dict[str, int], dict[str, int]]:
    """Reindex each series to its full grid and fill gaps by ``policy``.

    Returns the regular frame (without the ``_row`` column) and, per series, the
    number of target points that were missing (absent timestamps or empty values) and the
    longest run of them.
    """
    parts, filled, gaps = [], {}, {}
    for uid, part in frame.groupby(ID, sort=False):
        part = part.set_index(TIME)
        grid = pd.date_range(part.index[0], part.index[-1], freq=offset, name=TIME)
        values = part[value_cols].reindex(grid)
        missing = values[TARGET].isna().to_numpy()
        filled[uid] = int(missing.sum())
        gaps[uid] = _longest_run(missing)
        if policy is FillPolicy.INTERPOLATE:
            values = values.interpolate(method="linear", limit_direction="both")
        elif policy is FillPolicy.FFILL:
            values = values.ffill().bfill()
        values.insert(0, ID, uid)
        parts.append(values.reset_index())
    out = pd.concat(parts, ignore_index=True)[[ID, TIME, *value_cols]]
    return out, filled, gaps
