"""Forecast files: CSV or Parquet by extension, written whole or not at all (:mod:`forecasting.files`)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from forecasting.errors import InputError
from forecasting.files import atomic_writer, sha256_file

FORMATS = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}


def output_format(path: str | Path) -> str:
    """``csv`` or ``parquet`` from the file name; anything else is an :class:`InputError`."""
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        raise InputError(
            f"{path}: unsupported output type {suffix or '(none)'!r} (use .csv or .parquet)"
        )
    return FORMATS[suffix]


def write_frame(frame: pd.DataFrame, path: str | Path, chunk_rows: int = 100_000) -> str:
    """Write ``frame`` as CSV or Parquet (by extension) atomically; returns the file's SHA-256.

    No index and nothing time-dependent goes into the file, so the same frame always
    gives the same bytes. CSV is written in chunks, so a large frame is never held
    twice in memory as text.
    """
    fmt = output_format(path)
    with atomic_writer(path) as fh:
        if fmt == "csv":
            for start in range(0, max(len(frame), 1), chunk_rows):
                part = frame.iloc[start : start + chunk_rows]
                text = part.to_csv(index=False, header=start == 0, lineterminator="\n")
                fh.write(text.encode("utf-8"))
        else:
            frame.to_parquet(fh, index=False, engine="pyarrow")
    return sha256_file(path)
