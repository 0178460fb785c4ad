"""Stale series: those whose last point is more than one horizon before the as-of time.

Their forecast would start before the as-of time and end before it too, so it forecasts the
past. ``forecast predict`` warns about them and lists them in the lineage; ``--drop-stale``
leaves them out of the forecast. The as-of time is ``--as-of`` (the scheduler's fire time),
else the latest timestamp in the file.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass

import pandas as pd

from forecasting.data import ID, TIME
from forecasting.data.frequency import steps_before
from forecasting.errors import DataError
from forecasting.packaging.history import History, wall_clock

log = logging.getLogger(__name__)

LISTED = 20  # ids named in a message or the lineage; the count is always complete


@dataclass(frozen=True)
class Stale:
    ids: list[str]
    reference: pd.Timestamp  # the as-of time the series are measured against
    before: pd.Timestamp  # a series whose last point is earlier than this is stale
    horizon: int


def find_stale(
    history: History, horizon: int, freq: str, as_of: pd.Timestamp | None = None
) -> Stale:
    """The series of ``history`` whose last point is more than ``horizon`` steps before ``as_of``
    (or before the latest timestamp of the history when there is no as-of time)."""
    reference = wall_clock(as_of) if as_of is not None else history.end
    before = steps_before(reference, freq, horizon)
    last = history.data.frame.groupby(ID, sort=True)[TIME].max()
    return Stale(sorted(map(str, last.index[last < before])), reference, before, horizon)


def describe(stale: Stale) -> str:
    named = ", ".join(stale.ids[:LISTED]) + (
        f" and {len(stale.ids) - LISTED} more" if len(stale.ids) > LISTED else ""
    )
    return (
        f"{len(stale.ids)} stale series (last point more than one horizon, {stale.horizon} steps, "
        f"before {stale.reference}): {named}"
    )


def without_stale(history: History, stale: Stale, source: str) -> History:
    """``history`` without the stale series; a history with nothing else left is a DataError."""
    keep = ~history.data.frame[ID].astype(str).isin(stale.ids).to_numpy()
    if not keep.any():
        raise DataError(
            f"{source}: column {history.columns.time!r}: every series is stale (last point before "
            f"{stale.before}, more than one horizon before {stale.reference}); nothing to forecast"
        )
    data = dataclasses.replace(history.data, frame=history.data.frame[keep].reset_index(drop=True))
    frame = history.frame[keep].reset_index(drop=True)
    return History(frame, data, history.columns, data.frame[TIME].max())
