"""Turn a raw table into checked columns, failing on the first bad value with a clear line.

Rows in messages are counted from 1 over the data rows of the file (the header
is not a row), in the file's own order, so "row 3" is the third record.
"""

from __future__ import annotations

import logging
import warnings

import numpy as np
import pandas as pd

from forecasting.data.schema import ID, SINGLE_SERIES_ID, TARGET, TIME, Columns, channel_id
from forecasting.errors import DataError

log = logging.getLogger(__name__)

ROW = "_row"  # 1-based position of a record in the user's file, kept for messages
# A multichannel target's canonical rows also name their target column and their user's series.
CHANNEL, PARENT = "_channel", "_parent"


def _first(mask: pd.Series) -> int:
    """Index label of the first True in ``mask``."""
    return mask.idxmax()


def _shown(value: object) -> str:
    text = str(value)
    return repr(text if len(text) <= 40 else text[:37] + "...")


def check_columns(frame: pd.DataFrame, columns: Columns, source: str) -> None:
    found = ", ".join(map(str, frame.columns))
    for role, name in (("time", columns.time), *(("target", t) for t in columns.targets)):
        if name not in frame.columns:
            raise DataError(
                f"{source}: missing {role} column {name!r} (found: {found}){_sep_hint(frame)}"
            )
    # Only the default id column may be absent (a single-series file); a named one must exist.
    if columns.id != ID and columns.id not in frame.columns:
        raise DataError(f"{source}: missing id column {columns.id!r} (found: {found})")
    for name in columns.covariates or ():
        if name not in frame.columns:
            raise DataError(f"{source}: missing covariate column {name!r} (found: {found})")


def _sep_hint(frame: pd.DataFrame) -> str:
    """When a file was read as one column whose name holds a separator, say which."""
    if len(frame.columns) != 1:
        return ""
    name = str(frame.columns[0])
    for sep in (";", "\t", "|", ","):
        if sep in name:
            return f"; the file looks separated by {sep!r}: pass --sep {sep!r}"
    return ""


def parse_times(
    raw: pd.Series,
    source: str,
    column: str,
    rows: pd.Series,
    date_format: str | None = None,
    dayfirst: bool | None = None,
    notes: list[str] | None = None,
) -> pd.Series:
    """Parse timestamps; time-zone aware input stays aware (mixed offsets become UTC).

    ``date_format`` (strptime codes) is used as given. Otherwise dates written ``NN/NN/YYYY``
    are read in the day/month order ``dayfirst`` gives, or the one order every row fits; when
    both orders fit and differ the file is refused (see :func:`day_first`).
    """
    if raw.isna().any():
        at = _first(raw.isna())
        raise DataError(f"{source}: column {column!r}: missing timestamp at row {rows[at]}")
    if pd.api.types.is_datetime64_any_dtype(raw):
        return raw
    text = raw.astype(str).str.strip()
    if date_format is not None:
        return _with_format(text, date_format, source, column, rows)
    if dayfirst is None:
        dayfirst = day_first(text, source, column, rows, notes if notes is not None else [])
    order = {"dayfirst": bool(dayfirst)}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            parsed = pd.to_datetime(text, errors="coerce", **order)
        except (ValueError, TypeError):
            parsed = pd.to_datetime(text, errors="coerce", utc=True, **order)
        if parsed.dtype == object:  # mixed UTC offsets, e.g. across a DST change
            parsed = _mixed_offsets(text, source, column)
        if parsed.isna().any():  # the format inferred from row 1 may not fit every row
            utc = getattr(parsed.dt, "tz", None) is not None
            try:
                parsed = pd.to_datetime(text, errors="coerce", format="mixed", utc=utc, **order)
            except (ValueError, TypeError):
                parsed = pd.to_datetime(text, errors="coerce", format="mixed", utc=True, **order)
    if parsed.isna().any():
        at = _first(parsed.isna())
        raise DataError(
            f"{source}: column {column!r}: unparsable timestamp {_shown(raw[at])} at row {rows[at]}"
        )
    return parsed


def _with_format(text: pd.Series, fmt: str, source: str, column: str, rows: pd.Series):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            parsed = pd.to_datetime(text, errors="coerce", format=fmt)
        except (ValueError, TypeError):
            parsed = pd.to_datetime(text, errors="coerce", format=fmt, utc=True)
    if parsed.isna().any():
        at = _first(parsed.isna())
        raise DataError(
            f"{source}: column {column!r}: timestamp {_shown(text[at])} at row {rows[at]} "
            f"does not match --date-format {fmt!r}"
        )
    return parsed


# A date that starts with day and month in either order: 03/04/2024, 3.4.24, 03-04-2024 10:00.
_NUMERIC_DATE = r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](?:\d{4}|\d{2})(?:$|[ T])"
_SETTLE = "pass --dayfirst, --no-dayfirst or --date-format (e.g. %d/%m/%Y)"


def day_first(text: pd.Series, source: str, column: str, rows: pd.Series, notes: list[str]) -> bool:
    """Whether dates written ``NN/NN/YYYY`` are day first: the one order every row fits
    (a choice the data made is added to ``notes``, logged once loading succeeded).

    Raises:
        DataError: both orders fit every row and give different dates (ambiguous), or neither
            does (rows written in different orders).
    """
    parts = text.str.extract(_NUMERIC_DATE)
    if parts.isna().any().any():  # not every row is such a date: nothing to settle here
        return False
    first, second = parts[0].astype(int), parts[1].astype(int)
    fits_day_first = (first <= 31) & (second <= 12)
    fits_month_first = (first <= 12) & (second <= 31)
    where = f"{source}: column {column!r}"
    if fits_day_first.all() and fits_month_first.all():
        differ = first != second
        if not differ.any():
            return False
        at = _first(differ)
        raise DataError(
            f"{where}: ambiguous day/month order: {_shown(text[at])} at row {rows[at]} is "
            f"day {first[at]} of month {second[at]} or month {first[at]} day {second[at]}; "
            + _SETTLE
        )
    if fits_day_first.all():
        at = _first(~fits_month_first)
        notes.append(f"{where}: dates read day first ({text[at]!r} at row {rows[at]})")
        return True
    if fits_month_first.all():
        return False
    day, month = _first(~fits_month_first), _first(~fits_day_first)
    raise DataError(
        f"{where}: day/month order differs between rows: {_shown(text[day])} at row {rows[day]} "
        f"is day first, {_shown(text[month])} at row {rows[month]} is month first; " + _SETTLE
    )


_UTC_OFFSET = r"(?:Z|[+-]\d{2}:?\d{2})$"


def _mixed_offsets(text: pd.Series, source: str, column: str) -> pd.Series:
    """Timestamps written with different UTC offsets are the true instants (in UTC) — unless
    every one has the same local time of day and the UTC ones do not: daily (or coarser) data
    written in a zone with daylight saving, whose local midnights are 23 or 25 hours apart.
    Such a series lives on the local calendar, so the offsets are dropped instead."""
    utc = pd.to_datetime(text, errors="coerce", utc=True)
    wall = pd.to_datetime(text.str.replace(_UTC_OFFSET, "", regex=True), errors="coerce")
    if utc.notna().all() and wall.notna().all():
        same_local_time = (wall - wall.dt.normalize()).nunique() == 1
        if same_local_time and (utc - utc.dt.normalize()).nunique() > 1:
            log.info(
                "%s: column %r mixes UTC offsets at one local time of day (daylight saving): "
                "using the local calendar times",
                source,
                column,
            )
            return wall
    return utc


def parse_numbers(raw: pd.Series, source: str, column: str, rows: pd.Series) -> pd.Series:
    """Parse a numeric column; empty cells stay missing (a fill policy handles them)."""
    if pd.api.types.is_bool_dtype(raw):
        raise DataError(f"{source}: column {column!r}: boolean values are not numeric")
    values = pd.to_numeric(raw, errors="coerce").astype("float64")
    bad = values.isna() & raw.notna() & (raw.astype(str).str.strip().str.lower() != "nan")
    if bad.any():
        at = _first(bad)
        raise DataError(
            f"{source}: column {column!r}: non-numeric value {_shown(raw[at])} at row {rows[at]}"
        )
    inf = np.isinf(values.to_numpy())
    if inf.any():
        at = values.index[int(np.argmax(inf))]
        raise DataError(
            f"{source}: column {column!r}: infinite value {_shown(raw[at])} at row {rows[at]}"
        )
    return values


def _is_numeric(raw: pd.Series) -> bool:
    if pd.api.types.is_numeric_dtype(raw) and not pd.api.types.is_bool_dtype(raw):
        return True
    present = raw.dropna()
    return not present.empty and pd.to_numeric(present, errors="coerce").notna().all()


def to_canonical(
    frame: pd.DataFrame,
    columns: Columns,
    source: str,
    rows: pd.Series | None = None,
    date_format: str | None = None,
    dayfirst: bool | None = None,
    notes: list[str] | None = None,
) -> tuple[pd.DataFrame, list[str]]:
    """Check and rename a raw table to ``unique_id, ds, y, <covariates>``.

    ``rows`` are the file's row numbers of ``frame``'s records (default 1, 2, ...: a long
    file as read); ``date_format`` and ``dayfirst`` say how to read the timestamps; choices
    made from the data are added to ``notes``.

    Returns the canonical frame (sorted by id and time, with a ``_row`` column)
    and the covariate names.
    """
    check_columns(frame, columns, source)
    frame = frame.reset_index(drop=True)
    if rows is None:
        rows = pd.Series(np.arange(1, len(frame) + 1), index=frame.index)
    else:
        rows = pd.Series(np.asarray(rows), index=frame.index)

    has_id = columns.id in frame.columns
    if has_id:
        ids = frame[columns.id]
        if ids.isna().any():
            at = _first(ids.isna())
            raise DataError(f"{source}: column {columns.id!r}: missing series id at row {rows[at]}")
        ids = ids.astype(str).str.strip()
    else:
        ids = pd.Series(SINGLE_SERIES_ID, index=frame.index)

    times = parse_times(
        frame[columns.time], source, columns.time, rows, date_format, dayfirst, notes
    )
    targets = {t: parse_numbers(frame[t], source, t, rows) for t in columns.targets}

    taken = {columns.id, columns.time, *columns.targets}
    if columns.covariates is None:
        candidates = [c for c in frame.columns if c not in taken]
        covariates = [c for c in candidates if _is_numeric(frame[c])]
    else:
        covariates = list(columns.covariates)
    for name in covariates:  # a covariate may not take a name the canonical frame uses
        if str(name) in (ID, TIME, TARGET, ROW):
            raise DataError(
                f"{source}: column {name!r}: name is reserved (unique_id, ds, y, _row) and it is not "
                f"the id, time or target column; rename it or name it with --id-col/--time-col/--target"
            )
    for column, target in targets.items():
        if target.isna().all():
            raise DataError(f"{source}: column {column!r}: no numeric values at all")
        # A series with no value at all cannot be filled by any policy.
        empty = ~target.notna().groupby(ids, sort=False).transform("any")
        if empty.any():
            at = _first(empty)
            raise DataError(
                f"{source}: column {column!r}: series {ids[at]!r} has no numeric values "
                f"(first row {rows[at]})"
            )
    out = pd.DataFrame({ID: ids, TIME: times, TARGET: targets[columns.targets[0]]})
    for name in covariates:
        out[str(name)] = parse_numbers(frame[name], source, str(name), rows)
    out[ROW] = rows

    dup = out.duplicated([ID, TIME], keep="first")
    if dup.any():
        at = _first(dup)
        hint = (
            "" if has_id else f" (no id column {columns.id!r}, so the file was read as one series)"
        )
        raise DataError(
            f"{source}: column {columns.time!r}: duplicate (id, time) pair "
            f"({out.at[at, ID]!r}, {out.at[at, TIME]}) at row {rows[at]}{hint}"
        )
    if columns.multichannel:
        out = _channels(out, targets)
    out = out.sort_values([ID, TIME], kind="stable").reset_index(drop=True)
    return out, [str(c) for c in covariates]


def _channels(out: pd.DataFrame, targets: dict[str, pd.Series]) -> pd.DataFrame:
    """One series per (id, target column): the rows of ``out`` repeated for every column, each
    with that column as ``y``, the id :func:`channel_id`, the column in ``CHANNEL`` and the
    user's series id in ``PARENT``."""
    parts = []
    for column, target in targets.items():
        part = out.assign(**{TARGET: target.to_numpy(), CHANNEL: column, PARENT: out[ID]})
        part[ID] = [channel_id(uid, column) for uid in out[ID]]
        parts.append(part)
    return pd.concat(parts, ignore_index=True)
