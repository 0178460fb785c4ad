"""A wide file (a time column and one column per series) in long format, and a wide file that
was not declared as one told apart from a long file with a missing column."""

from __future__ import annotations

import numpy as np
import pandas as pd

from forecasting.data.schema import ID, TARGET, Columns
from forecasting.errors import DataError

SHOWN = 5  # column names shown in a message before "..."


def _numeric(block: pd.DataFrame) -> pd.DataFrame:
    return block.apply(pd.to_numeric, errors="coerce").astype("float64")


def _names(names: list[str]) -> str:
    return ", ".join(names[:SHOWN]) + (", ..." if len(names) > SHOWN else "")


def refuse_undeclared_wide(frame: pd.DataFrame, columns: Columns, source: str) -> None:
    """A file with the time column, neither the id nor the target column, and two or more
    numeric columns is a wide file: refuse it with the hint to pass ``--wide``."""
    present = set(map(str, frame.columns))
    if columns.multichannel:  # several named target columns: the user declared the layout
        return
    if columns.time not in present or columns.target in present or columns.id in present:
        return
    others = [str(c) for c in frame.columns if str(c) != columns.time]
    block = frame[others].head(1000)
    numeric = [c for c, ok in (_numeric(block).notna() | block.isna()).all().items() if ok]
    if len(numeric) >= 2:
        raise DataError(
            f"{source}: no target column {columns.target!r} but a time column {columns.time!r} "
            f"and {len(numeric)} numeric columns ({_names(numeric)}): a wide file, one column per "
            "series? pass --wide"
        )


def wide_to_long(
    frame: pd.DataFrame, columns: Columns, source: str
) -> tuple[pd.DataFrame, pd.Series, Columns]:
    """``time, a, b, ...`` as ``unique_id, time, y`` (each series from its first to its last
    value; empty cells inside stay missing for the fill policy), with the file's row of each
    record and the columns of the long frame. Covariates named in ``columns`` are shared by
    every series; every other column is a series.
    """
    found = ", ".join(map(str, frame.columns))
    if columns.time not in frame.columns:
        raise DataError(f"{source}: missing time column {columns.time!r} (found: {found})")
    covariates = list(columns.covariates or ())
    for name in covariates:
        if name not in frame.columns:
            raise DataError(f"{source}: missing covariate column {name!r} (found: {found})")
    series = [c for c in frame.columns if c != columns.time and c not in covariates]
    if not series:
        raise DataError(f"{source}: wide file without series columns (found: {found})")
    frame = frame.reset_index(drop=True)
    raw = frame[series]
    values = _numeric(raw)
    text = raw.astype(str).apply(lambda col: col.str.strip().str.lower())
    bad = (values.isna() & raw.notna() & (text != "nan")).to_numpy()
    if bad.any():  # the first bad cell in the file's order: by row, then by column
        r, c = np.argwhere(bad)[0]
        raise DataError(
            f"{source}: column {series[c]!r}: non-numeric value {str(raw.iat[r, c])!r} "
            f"at row {r + 1}"
        )
    empty = ~values.notna().any()
    if empty.any():
        raise DataError(f"{source}: column {empty.idxmax()!r}: no numeric values at all")
    values.columns = [str(c) for c in series]
    values[columns.time] = frame[columns.time]
    values["__row"] = np.arange(1, len(frame) + 1)
    for name in covariates:
        values[name] = frame[name]
    long = values.melt(id_vars=[columns.time, "__row", *covariates], var_name=ID, value_name=TARGET)
    present = long[TARGET].notna()
    started = present.groupby(long[ID], sort=False).cummax()
    ongoing = present[::-1].groupby(long[ID][::-1], sort=False).cummax()[::-1]
    long = long[started & ongoing]
    rows = long.pop("__row")
    out = long[[ID, columns.time, TARGET, *covariates]].reset_index(drop=True)
    return out, rows.reset_index(drop=True), Columns(ID, columns.time, TARGET, columns.covariates)
