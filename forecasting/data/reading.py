"""Read a CSV or Parquet file into a DataFrame, with errors a user can act on."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from forecasting.errors import DataError, first_line

READERS = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}


def read_table(path: str | Path) -> pd.DataFrame:
    """Read ``path`` (``.csv`` or ``.parquet``) with every column as read, nothing parsed yet.

    CSV columns are read as strings so that validation can name the exact value
    that fails to parse, instead of pandas guessing types silently.
    """
    path = Path(path)
    kind = READERS.get(path.suffix.lower())
    if kind is None:
        raise DataError(f"{path}: unsupported file type {path.suffix!r} (use .csv or .parquet)")
    if not path.exists():
        raise DataError(f"{path}: file not found")
    if path.is_dir():
        raise DataError(f"{path}: is a folder, not a data file")
    if path.stat().st_size == 0:
        raise DataError(f"{path}: file is empty")
    try:
        if kind == "csv":
            frame = pd.read_csv(path, dtype=str, keep_default_na=True, skipinitialspace=True)
        else:
            frame = pd.read_parquet(path)
    except pd.errors.EmptyDataError as exc:
        raise DataError(f"{path}: file is empty") from exc
    except (OSError, ValueError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise DataError(f"{path}: cannot read {kind.upper()} file: {first_line(exc)}") from exc
    except Exception as exc:  # pyarrow raises its own error types for corrupt files
        raise DataError(f"{path}: cannot read {kind.upper()} file: {first_line(exc)}") from exc
    if frame.empty:
        raise DataError(f"{path}: file has a header but no data rows")
    return frame
