"""A user's history, checked against a packaged forecaster's state and cut at ``as_of``.

This is what every front end (``forecast predict``, the scheduler, Spark, ``forecast
diagnose``) does before it hands the history to the packaged model: the columns the model
was trained with, its frequency, naive timestamps, and at least ``lookback`` gap-free points
per series after the cut. Series the model never saw are fine: it does not use series identity.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd

from forecasting.data import ID, TARGET, TIME, Columns, SeriesData, load_series
from forecasting.data.frequency import frequency_mismatch
from forecasting.data.regularize import infer_frequency
from forecasting.data.schema import SINGLE_SERIES_ID
from forecasting.data.validation import ROW, to_canonical
from forecasting.errors import DataError
from forecasting.packaging.state import PackagedState
from forecasting.windowing.inference import check_history

log = logging.getLogger(__name__)


@dataclass
class History:
    """Validated history, cut at ``as_of``, in the user's column names (what the pyfunc takes)."""

    frame: pd.DataFrame
    data: SeriesData
    columns: Columns
    end: pd.Timestamp


def user_frame(data: SeriesData, frame: pd.DataFrame | None = None) -> pd.DataFrame:
    """``data``'s canonical ``frame`` (default: all of it) in the user's column names, as a
    packaged forecaster takes it: for a multichannel target, one row per series and time with
    every target column again."""
    frame = data.frame if frame is None else frame
    cols = data.columns
    if cols.multichannel:
        return _channels_side_by_side(data, frame)
    out = pd.DataFrame(
        {cols.id: frame[ID].astype(str), cols.time: frame[TIME], cols.target: frame[TARGET]}
    )
    for c in data.covariates:
        out[c] = frame[c]
    return out.reset_index(drop=True)


def _channels_side_by_side(data: SeriesData, frame: pd.DataFrame) -> pd.DataFrame:
    """The series of a multichannel target (one per id and column) back as one row per id and
    time with a column per target (a step one column lacks stays empty) and the covariates."""
    cols = data.columns
    keyed = frame.assign(
        **{cols.id: frame[ID].map(data.parents), "_channel": frame[ID].map(data.channels)}
    )
    values = keyed.pivot(index=[cols.id, TIME], columns="_channel", values=TARGET).reindex(
        columns=list(cols.targets)
    )
    out = keyed.drop_duplicates([cols.id, TIME])[[cols.id, TIME, *data.covariates]]
    out = out.merge(values.reset_index(), on=[cols.id, TIME], how="left")
    parents = {p: i for i, p in enumerate(dict.fromkeys(data.parents[u] for u in data.ids))}
    out = out.sort_values([cols.id, TIME], key=lambda s: s.map(parents) if s.name == cols.id else s)
    out = out.rename(columns={TIME: cols.time})
    return out[[cols.id, cols.time, *cols.targets, *data.covariates]].reset_index(drop=True)


def wall_clock(as_of: pd.Timestamp) -> pd.Timestamp:
    """Compare with naive data on the clock of the as-of's own zone (naive stays naive)."""
    return as_of.tz_localize(None) if as_of.tzinfo is not None else as_of


def _check_columns(raw: pd.DataFrame, columns: Columns, source: str) -> None:
    found = ", ".join(map(str, raw.columns))
    roles = [("time", columns.time), *(("target", t) for t in columns.targets)]
    roles += [("covariate", c) for c in columns.covariates or ()]
    if columns.id != ID:  # the default id column may be absent: a single-series file
        roles.insert(0, ("id", columns.id))
    for role, name in roles:
        if name not in raw.columns:
            raise DataError(
                f"{source}: missing {role} column {name!r} that the model was trained with (found: {found})"
            )


def prepare_history(
    raw: pd.DataFrame,
    state: PackagedState,
    source: str,
    as_of: pd.Timestamp | None = None,
    *,
    dayfirst: bool | None = None,
    date_format: str | None = None,
) -> History:
    """Validate ``raw`` against the packaged model's ``state`` and cut it at ``as_of`` (inclusive).
    ``dayfirst`` and ``date_format`` say how to read text timestamps, as in
    :func:`forecasting.data.load_series`.

    Raises:
        DataError: one line naming the file, the column and the offending series or value.
    """
    columns = state.model_columns
    lookback = state.lookback
    _check_columns(raw, columns, source)
    canonical, _ = to_canonical(raw, columns, source, None, date_format, dayfirst)
    tz = canonical[TIME].dt.tz
    if tz is not None:
        raise DataError(
            f"{source}: column {columns.time!r}: time-zone aware timestamps ({tz}) are not accepted by the "
            f"packaged model's signature; write local times without an offset"
        )
    if as_of is not None:
        before = canonical[ID].nunique()
        canonical = canonical[canonical[TIME] <= wall_clock(as_of)]
        if canonical.empty:
            raise DataError(
                f"{source}: column {columns.time!r}: no rows at or before --as-of {as_of}"
            )
        if canonical[ID].nunique() < before:
            log.info(
                "%d series start after %s and are not forecast",
                before - canonical[ID].nunique(),
                as_of,
            )
    if (canonical.groupby(ID, sort=False).size() >= 2).any():
        found = infer_frequency(canonical, source, columns.time)
        mismatch = frequency_mismatch(found, state.freq, canonical[TIME])
        if mismatch:
            raise DataError(f"{source}: column {columns.time!r}: {mismatch}")
    kept = raw.iloc[np.unique(canonical[ROW].to_numpy()) - 1] if as_of is not None else raw
    data = load_series(
        kept,
        columns,
        freq=state.freq,
        fill=state.fill,
        name=source,
        date_format=date_format,
        dayfirst=dayfirst,
    )
    cut = f" at or before {as_of}" if as_of is not None else ""
    check_history(data, lookback, cut, short_allowed=state.fallback is not None)
    if columns.multichannel:
        frame = user_frame(data)
        if columns.id not in raw.columns:  # a file of one series stays without an id column
            frame = frame.drop(columns=columns.id)
        return History(frame, data, columns, data.frame[TIME].max())
    frame = pd.DataFrame({columns.time: data.frame[TIME], columns.target: data.frame[TARGET]})
    if columns.id in raw.columns or data.frame[ID].ne(SINGLE_SERIES_ID).any():
        frame.insert(0, columns.id, data.frame[ID].astype(str))
    for c in data.covariates:
        frame[c] = data.frame[c]
    return History(frame.reset_index(drop=True), data, columns, data.frame[TIME].max())
