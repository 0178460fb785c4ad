"""Read a CSV or Parquet file into a DataFrame, with errors a user can act on."""

from __future__ import annotations

import csv
import io
import logging
from pathlib import Path

import pandas as pd

from forecasting.errors import DataError, first_line

log = logging.getLogger(__name__)

READERS = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}
SPREADSHEETS = (".xlsx", ".xls", ".xlsm", ".ods")

# Separators a CSV file may use, in the order they win a tie; and how much of the file is read
# to tell which one it uses.
SEPARATORS = (",", ";", "\t", "|")
SNIFF_LINES = 50


def sniff_separator(path: Path) -> str:
    """The separator that splits the first lines of ``path`` into the same number of fields,
    most fields winning (quotes respected); ``,`` when none does."""
    with path.open(encoding="utf-8", errors="replace", newline="") as f:
        lines = [line for _, line in zip(range(SNIFF_LINES), f, strict=False) if line.strip()]
    best, most = ",", 1
    for sep in SEPARATORS:
        counts = {len(row) for row in csv.reader(io.StringIO("".join(lines)), delimiter=sep)}
        if len(counts) == 1 and (n := counts.pop()) > most:
            best, most = sep, n
    return best


def read_table(path: str | Path, sep: str | None = None) -> pd.DataFrame:
    """Read ``path`` (``.csv`` or ``.parquet``) with every column as read, nothing parsed yet.

    CSV columns are read as strings so that validation can name the exact value
    that fails to parse, instead of pandas guessing types silently. ``sep`` is the CSV
    separator; None sniffs it from the first lines.
    """
    path = Path(path)
    kind = READERS.get(path.suffix.lower())
    if kind is None:
        hint = "export the sheet as CSV; " if path.suffix.lower() in SPREADSHEETS else ""
        raise DataError(
            f"{path}: unsupported file type {path.suffix!r} ({hint}use .csv or .parquet)"
        )
    if not path.exists():
        raise DataError(f"{path}: file not found")
    if path.is_dir():
        raise DataError(f"{path}: is a folder, not a data file")
    if path.stat().st_size == 0:
        raise DataError(f"{path}: file is empty")
    try:
        if kind == "csv":
            sep = {"\\t": "\t", "tab": "\t"}.get(sep, sep)  # typed on a command line
            if sep is None:
                sep = sniff_separator(path)
                log.debug("%s: separator %r (sniffed)", path, sep)
            frame = pd.read_csv(
                path, sep=sep, dtype=str, keep_default_na=True, skipinitialspace=True
            )
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
