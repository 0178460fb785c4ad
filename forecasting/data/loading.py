"""Load a user's series: read, validate, put on a regular grid, fill gaps by policy."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from forecasting.data.bundled import is_bundled, load_bundled
from forecasting.data.frequency import freq_name, parse_freq
from forecasting.data.reading import read_table, sniff_separator
from forecasting.data.regularize import (
    FillPolicy,
    check_grid,
    fill_causes,
    infer_frequency,
    refuse_finer_freq,
    regularize,
)
from forecasting.data.schema import ID, TARGET, TIME, Columns
from forecasting.data.validation import CHANNEL, PARENT, to_canonical
from forecasting.data.wide import refuse_undeclared_wide, wide_to_long
from forecasting.errors import DataError

log = logging.getLogger(__name__)


@dataclass
class SeriesData:
    """Validated, regular series in canonical long format (``unique_id, ds, y, covariates``)."""

    frame: pd.DataFrame
    columns: Columns
    covariates: list[str]
    freq: str
    filled: dict[str, int]
    source: str
    fill: FillPolicy = FillPolicy.INTERPOLATE
    ignored: list[str] = field(default_factory=list)
    gaps: dict[str, int] = field(default_factory=dict)  # longest run of missing points
    causes: dict[str, str] = field(default_factory=dict)  # why points are missing, where seen
    # A multichannel target: each series' target column and the user's series it belongs to
    # (both empty for a single target column).
    channels: dict[str, str] = field(default_factory=dict)
    parents: dict[str, str] = field(default_factory=dict)

    @property
    def ids(self) -> list[str]:
        return list(pd.unique(self.frame[ID]))

    @property
    def lengths(self) -> pd.Series:
        return self.frame.groupby(ID, sort=False).size()

    def fill_fractions(self) -> pd.Series:
        """Share of each series' points that were missing (filled, or gaps under ``drop``),
        the worst first."""
        lengths = self.lengths
        missing = pd.Series(self.filled, dtype="float64").reindex(lengths.index, fill_value=0)
        return (missing / lengths).sort_values(ascending=False, kind="stable")

    def fill_lines(self, limit: int = 10) -> list[str]:
        """The fill fractions as lines, the worst first, at most ``limit`` series."""
        fractions = self.fill_fractions()
        fractions = fractions[fractions > 0]
        lengths = self.lengths
        lines = [
            f"    {uid}: {_percent(fraction)} ({self.filled[uid]} of {lengths[uid]} points, "
            f"longest gap {self.gaps.get(uid, 0)})"
            for uid, fraction in fractions.head(limit).items()
        ]
        if len(fractions) > limit:
            lines.append(f"    ... and {len(fractions) - limit} more series with missing points")
        return lines

    def series(self, uid: str) -> pd.DataFrame:
        return self.frame[self.frame[ID] == uid]

    def summary(self) -> str:
        lengths = self.lengths
        tz = self.frame[TIME].dt.tz
        lines = [
            f"{self.source}: {len(lengths)} series, {len(self.frame)} points at frequency {self.freq}"
            + (f" ({tz})" if tz is not None else ""),
            f"  lengths: min {lengths.min()}, median {int(lengths.median())}, max {lengths.max()}",
            f"  time range: {self.frame[TIME].min()} .. {self.frame[TIME].max()}",
            f"  covariates: {', '.join(self.covariates) if self.covariates else 'none'}",
            f"  missing points {'filled' if self.fill is not FillPolicy.DROP else 'left as gaps'}"
            f" ({self.fill.value}): {sum(self.filled.values())}",
        ]
        if len(lengths) <= 10:
            for uid, n in lengths.items():
                lines.append(f"    {uid}: {n} points, {self.filled.get(uid, 0)} missing")
        fill_lines = self.fill_lines()
        if fill_lines:
            lines.append("  missing share per series, the worst first:")
            lines += fill_lines
        return "\n".join(lines)


def _percent(fraction: float) -> str:
    return f"{fraction:.1%}" if fraction >= 0.001 else "<0.1%"


def load_series(
    source: str | Path | pd.DataFrame,
    columns: Columns | None = None,
    freq: str | None = None,
    fill: FillPolicy | str = FillPolicy.INTERPOLATE,
    min_length: int | None = None,
    name: str | None = None,
    *,
    sep: str | None = None,
    wide: bool = False,
    date_format: str | None = None,
    dayfirst: bool | None = None,
) -> SeriesData:
    """Read and validate ``source`` (a CSV/Parquet path, ``bundled:<name>`` or a DataFrame).

    Args:
        source: where the series come from.
        columns: the user's column names (defaults ``unique_id``, ``ds``, ``y``).
        freq: pandas frequency string; inferred when None.
        fill: gap policy (``interpolate``, ``ffill`` or ``drop``).
        min_length: every series must have at least this many points after regularising
            (typically lookback + horizon).
        name: how to refer to a DataFrame source in messages.
        sep: CSV separator; None sniffs it.
        wide: the table is a time column and one column per series (the column name is the
            id); without it such a table is refused with that hint.
        date_format: strptime format of the time column; None infers it.
        dayfirst: day/month order of ``NN/NN/YYYY`` dates; None: the order every row fits,
            refused when both fit.

    Returns:
        A :class:`SeriesData` whose frame is sorted by id and time, one row per grid step.

    Raises:
        DataError: one line naming the file, the column and the first offending row or value.
    """
    columns = columns or Columns()
    try:
        fill = FillPolicy(fill)
    except ValueError as exc:
        choices = ", ".join(p.value for p in FillPolicy)
        raise DataError(f"fill policy {fill!r} is not one of: {choices}") from exc
    notes: list[str] = []  # choices made from the data, logged once every check passed
    if isinstance(source, pd.DataFrame):
        raw, label = source, name or "<frame>"
    elif is_bundled(str(source)):
        raw, label = load_bundled(str(source)), str(source)
        columns = Columns(covariates=columns.covariates)
    else:
        label = str(source)
        if sep is None and Path(source).suffix.lower() == ".csv" and Path(source).is_file():
            sep = sniff_separator(Path(source))
            if sep != ",":
                notes.append(f"{label}: separator {sep!r} (sniffed; --sep sets it)")
        raw = read_table(source, sep=sep)
    if raw.empty:
        raise DataError(f"{label}: no data rows")

    rows = None
    if wide and columns.multichannel:
        raise DataError(
            f"{label}: --wide reads one column per series, --target {columns.target_label} names the "
            "columns of one multichannel target: use one or the other"
        )
    if wide:
        raw, rows, columns = wide_to_long(raw, columns, label)
    else:
        refuse_undeclared_wide(raw, columns, label)
    frame, covariates = to_canonical(raw, columns, label, rows, date_format, dayfirst, notes)
    channels, parents = {}, {}
    if columns.multichannel:
        firsts = frame.drop_duplicates(ID)
        channels = dict(zip(firsts[ID], firsts[CHANNEL], strict=True))
        parents = dict(zip(firsts[ID], firsts[PARENT], strict=True))
        frame = frame.drop(columns=[CHANNEL, PARENT])
    offset = parse_freq(freq) if freq else infer_frequency(frame, label, columns.time)
    check_grid(frame, offset, label, columns.time)
    if freq:
        refuse_finer_freq(frame, offset, label, columns.time)
    regular, filled, gaps = regularize(frame, offset, fill, [TARGET, *covariates])
    if min_length is not None:
        lengths = regular.groupby(ID, sort=False).size()
        short = lengths[lengths < min_length]
        if not short.empty:
            raise DataError(
                f"{label}: column {columns.target_label!r}: series {short.index[0]!r} has {short.iloc[0]} "
                f"points, fewer than lookback + horizon = {min_length}"
            )
    # Logged only once every check passed, so that an error stays one line on stderr.
    for note in notes:
        log.info("%s", note)
    used = {columns.id, columns.time, *columns.targets, *covariates}
    ignored = [str(c) for c in raw.columns if c not in used and str(c) not in used]
    if ignored:
        why = "non-numeric" if columns.covariates is None else "unlisted"
        log.warning("%s: ignoring %s columns %s", label, why, ", ".join(ignored))
    total = sum(filled.values())
    if total:
        # At debug level: the usable-series policy says what it kept, or refuses in one line.
        log.debug("%d missing points across %d series (policy: %s)", total, len(filled), fill.value)
    data = SeriesData(
        frame=regular,
        columns=columns,
        covariates=covariates,
        freq=freq_name(offset),
        filled=filled,
        source=label,
        fill=fill,
        ignored=ignored,
        gaps=gaps,
        causes=fill_causes(frame, offset) if total else {},
        channels=channels,
        parents=parents,
    )
    log.debug("loaded %s", data.summary())
    return data
