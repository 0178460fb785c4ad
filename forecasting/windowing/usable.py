"""One policy for series that cannot be used as given.

A series too short for the lookback, the horizon and the validation and backtest windows
(more reasons, such as too many invented points, join here) does not block a panel: it is
left out of training, named in one warning line, and forecast by the best baseline. When
such series are most of the panel (over half), or any with ``strict``, the data are refused
with the diagnosis instead, because a model trained on the rest would not be the model the
user asked for.
"""

from __future__ import annotations

import dataclasses
import logging

import pandas as pd

from forecasting.config import WindowSpec
from forecasting.data import ID, SeriesData
from forecasting.errors import DataError
from forecasting.windowing.splits import min_length

log = logging.getLogger(__name__)

SHOWN = 5  # ids named in a message before "and N more"


@dataclasses.dataclass(frozen=True)
class LeftOut:
    """A series kept out of training, and why."""

    uid: str
    points: int
    reason: str


def _names(ids: list[str]) -> str:
    shown = ", ".join(repr(u) for u in ids[:SHOWN])
    return shown + (f" and {len(ids) - SHOWN} more" if len(ids) > SHOWN else "")


def partition(
    data: SeriesData, spec: WindowSpec, strict: bool = False
) -> tuple[SeriesData, list[LeftOut]]:
    """Split ``data`` into the series a model trains on and the ones left to the baseline.

    Raises:
        DataError: over half of the series cannot be used, or any with ``strict``.
    """
    need = min_length(spec)
    lengths = data.frame.groupby(ID, sort=False).size()
    short = lengths[lengths < need]
    if short.empty:
        return data, []
    left = [
        LeftOut(
            str(uid),
            int(n),
            f"{n} points, fewer than the {need} that lookback {spec.lookback}, "
            f"horizon {spec.horizon}, validation and backtest need",
        )
        for uid, n in short.items()
    ]
    ids = [x.uid for x in left]
    where = f"{data.source}: column {data.columns.target!r}"
    if strict or 2 * len(short) > len(lengths):
        why = (
            "--strict refuses any"
            if strict and 2 * len(short) <= len(lengths)
            else "that is most of the panel"
        )
        raise DataError(
            f"{where}: {len(short)} of {len(lengths)} series have fewer than {need} points (lookback "
            f"{spec.lookback} + horizon {spec.horizon} + validation and backtest), {why}: {_names(ids)}; "
            f"shortest {short.idxmin()!r} has {short.min()} points (shorten the lookback or the horizon)"
        )
    log.warning(
        "%s: %d of %d series left out of training (fewer than %d points): %s; the best baseline "
        "forecasts them",
        where,
        len(short),
        len(lengths),
        need,
        _names(ids),
    )
    keep = data.frame[~data.frame[ID].isin(short.index)]
    usable = dataclasses.replace(
        data,
        frame=keep.reset_index(drop=True),
        filled={k: v for k, v in data.filled.items() if k not in set(ids)},
    )
    return usable, left


def left_out_frame(left: list[LeftOut], forecaster: str) -> pd.DataFrame:
    """The left-out series as a table (logged with the comparison)."""
    return pd.DataFrame(
        {
            "series": [x.uid for x in left],
            "points": [x.points for x in left],
            "reason": [x.reason for x in left],
            "forecaster": forecaster,
        },
    )
