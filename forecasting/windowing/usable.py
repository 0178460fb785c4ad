"""One policy for series that cannot be used as given.

A series too short for the lookback, the horizon and the validation and backtest windows, or
one with more invented points than the fill bound allows (``DataConfig.max_fill`` of its
points, no gap over ``max_gap`` steps), does not block a panel: it is left out of training,
named in one warning line, and forecast by the best baseline. When such series are most of the
panel (over half), or any with ``strict``, the data are refused with the diagnosis instead,
because a model trained on the rest would not be the model the user asked for.
"""

from __future__ import annotations

import dataclasses
import logging

import pandas as pd

from forecasting.config import DataConfig, WindowSpec
from forecasting.data import ID, FillPolicy, SeriesData
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
    kind: str = "short"  # "short": too short for the windows; "fill": over the fill bound


def _names(ids: list[str]) -> str:
    shown = ", ".join(repr(u) for u in ids[:SHOWN])
    return shown + (f" and {len(ids) - SHOWN} more" if len(ids) > SHOWN else "")


def over_fill_bound(data: SeriesData, bound: DataConfig, period: int) -> list[LeftOut]:
    """The series with more invented points than ``bound`` allows, the worst share first,
    each with how many points would be invented and the likely cause seen in its timestamps.
    Nothing is invented under the ``drop`` policy, so no series is over it then."""
    if data.fill is FillPolicy.DROP or not any(data.filled.values()):
        return []
    steps = bound.gap_steps(period)
    lengths = data.lengths
    fractions = data.fill_fractions()
    gaps = pd.Series(data.gaps, dtype="int64").reindex(fractions.index, fill_value=0)
    over = fractions[(fractions > bound.max_fill) | (gaps > steps)]
    left = []
    for uid, fraction in over.items():  # only the series over the bound
        n, invented = int(lengths[uid]), data.filled[uid]
        cause = data.causes.get(uid, "gaps in the data (no change of spacing found)")
        left.append(
            LeftOut(
                str(uid),
                n,
                f"{invented} of {n} points would be invented ({fraction:.0%}, longest gap "
                f"{gaps[uid]}), over the fill bound (at most {bound.max_fill:.0%} of the points, "
                f"no gap over {steps} steps); likely cause: {cause}",
                kind="fill",
            )
        )
    return left


def partition(
    data: SeriesData,
    spec: WindowSpec | None,
    strict: bool = False,
    bound: DataConfig | None = None,
    period: int = 1,
) -> tuple[SeriesData, list[LeftOut]]:
    """Split ``data`` into the series a model trains on and the ones left to the baseline.

    Args:
        data: the loaded series.
        spec: the windowing the series must be long enough for; None checks the fill bound only.
        strict: refuse the data if any series cannot be used.
        bound: ``max_fill`` and ``max_gap`` (default: DataConfig's).
        period: the season length, the ``max_gap`` of ``season``.

    Raises:
        DataError: over half of the series cannot be used, or any with ``strict``.
    """
    bound = bound or DataConfig()
    need = min_length(spec) if spec is not None else 0
    lengths = data.lengths
    short = lengths[lengths < need]
    filled = [x for x in over_fill_bound(data, bound, period) if x.uid not in short.index]
    if short.empty and not filled:
        _log_filled(data, data.ids)
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
    by_id = {x.uid: x for x in left + filled}
    left = [by_id[str(uid)] for uid in lengths.index if str(uid) in by_id]  # panel order
    ids = [x.uid for x in left]
    where = f"{data.source}: column {data.columns.target!r}"
    refused = strict or 2 * len(left) > len(lengths)
    why = "--strict refuses any" if strict and 2 * len(left) <= len(lengths) else None
    if not filled:
        _short_only(data, spec, short, lengths, need, ids, where, refused, why)
    else:
        kinds = [f"{len(filled)} over the fill bound"]
        if not short.empty:
            kinds.insert(0, f"{len(short)} with fewer than {need} points")
        worst = f"{filled[0].uid!r}: {filled[0].reason}"
        if refused:
            raise DataError(
                f"{where}: {len(left)} of {len(lengths)} series cannot be used as given "
                f"({', '.join(kinds)}), {why or 'that is most of the panel'}: {_names(ids)}; "
                f"{worst} (fix the data, or set --freq, --max-fill or --max-gap)"
            )
        log.warning(
            "%s: %d of %d series left out of training (%s): %s; the best baseline forecasts "
            "them; %s",
            where,
            len(left),
            len(lengths),
            ", ".join(kinds),
            _names(ids),
            worst,
        )
    gone = set(ids)
    _log_filled(data, [u for u in data.ids if u not in gone])
    keep = data.frame[~data.frame[ID].isin(gone)]
    usable = dataclasses.replace(
        data,
        frame=keep.reset_index(drop=True),
        filled={k: v for k, v in data.filled.items() if k not in gone},
        gaps={k: v for k, v in data.gaps.items() if k not in gone},
        causes={k: v for k, v in data.causes.items() if k not in gone},
    )
    return usable, left


def _log_filled(data: SeriesData, kept: list[str]) -> None:
    """One info line on the points invented in the series kept, once they are accepted."""
    filled = {u: data.filled.get(u, 0) for u in kept if data.filled.get(u, 0)}
    if not filled:
        return
    worst = data.fill_fractions().loc[list(filled)].idxmax()
    verb = "left as gaps" if data.fill is FillPolicy.DROP else "filled"
    log.info(
        "%s: %d missing points %s in %d series (policy: %s; the most in %r: %.1f%%)",
        data.source,
        sum(filled.values()),
        verb,
        len(filled),
        data.fill.value,
        worst,
        100 * data.fill_fractions()[worst],
    )


def _short_only(data, spec, short, lengths, need, ids, where, refused, why) -> None:
    """Refuse, or warn about, a panel whose unusable series are all too short."""
    if refused:
        raise DataError(
            f"{where}: {len(short)} of {len(lengths)} series have fewer than {need} points (lookback "
            f"{spec.lookback} + horizon {spec.horizon} + validation and backtest), "
            f"{why or 'that is most of the panel'}: {_names(ids)}; "
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
