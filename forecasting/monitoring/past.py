"""Past forecasts: the files a glob finds, each read with its lineage sidecar.

A forecast file is only usable for monitoring with its ``<file>.lineage.json`` (written by
``forecast predict``): it says which registered model and version made the forecast, as of
which time and over how many steps. A file without one, or whose lineage names no registered
version, is bad input (one line naming the file).
"""

from __future__ import annotations

import glob
import json
import logging
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from forecasting.data.reading import read_table
from forecasting.errors import DataError
from forecasting.packaging.layout import LINEAGE_SUFFIX, Y_HAT, interval_columns, lineage_path_for

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PastForecast:
    """One forecast file and what its lineage says about it."""

    path: Path
    frame: pd.DataFrame  # the file as written: id, time (the user's names), y_hat, bounds
    model_name: str
    model_version: str
    as_of: pd.Timestamp  # --as-of of the prediction, else the end of its history (tz-naive)
    horizon: int
    levels: tuple[int, ...]
    lineage: dict

    @property
    def key(self) -> tuple[str, str]:
        return self.model_name, self.model_version


def _naive(stamp: pd.Timestamp) -> pd.Timestamp:
    """Forecast and history times are naive; an as-of given with an offset is read in UTC."""
    return stamp.tz_convert("UTC").tz_localize(None) if stamp.tzinfo is not None else stamp


def read_lineage(path: Path) -> dict:
    sidecar = lineage_path_for(path)
    if not sidecar.is_file():
        raise DataError(
            f"{path}: no lineage sidecar {sidecar.name}: only forecasts written by "
            "`forecast predict` can be evaluated"
        )
    try:
        lineage = json.loads(sidecar.read_text())
    except (OSError, ValueError) as exc:
        raise DataError(f"{sidecar}: not a lineage file: {exc}") from None
    if not isinstance(lineage, dict):
        raise DataError(f"{sidecar}: not a lineage file (expected a JSON object)")
    return lineage


def read_past_forecast(path: str | Path) -> PastForecast:
    """The forecast at ``path`` with its lineage.

    Raises:
        DataError: no sidecar, a sidecar without a registered model version, as-of time or
            horizon, or a forecast file without the columns its lineage promises.
    """
    path = Path(path)
    lineage = read_lineage(path)
    sidecar = lineage_path_for(path).name
    if not lineage.get("model_name") or not lineage.get("model_version"):
        raise DataError(
            f"{sidecar}: model_name/model_version empty: the forecast was not made by a "
            f"registered model version (model {lineage.get('model_uri')!r}), so it has no "
            "backtest to compare with"
        )
    when = lineage.get("as_of") or lineage.get("history_end")
    try:
        as_of = _naive(pd.Timestamp(when))
        horizon = int(lineage["horizon"])
    except (KeyError, TypeError, ValueError):
        raise DataError(f"{sidecar}: no as_of/history_end time or horizon") from None
    if pd.isna(as_of):
        raise DataError(f"{sidecar}: no as_of/history_end time")
    levels = tuple(int(p) for p in lineage.get("interval_levels") or ())
    frame = read_table(path)
    needed = [Y_HAT] + [c for p in levels for c in interval_columns(p)]
    missing = [c for c in needed if c not in frame.columns]
    if missing or frame.shape[1] < 3:
        raise DataError(f"{path}: column {(missing or [Y_HAT])[0]!r} missing from the forecast")
    for column in needed:
        values = pd.to_numeric(frame[column], errors="coerce")
        bad = values.isna() & frame[column].notna()
        if bad.any():
            row = int(bad.to_numpy().argmax())
            raise DataError(
                f"{path}: column {column!r}: {frame[column].iloc[row]!r} (row {row + 1}) "
                "is not a number"
            )
        frame[column] = values.astype("float64")
    return PastForecast(
        path,
        frame,
        str(lineage["model_name"]),
        str(lineage["model_version"]),
        as_of,
        horizon,
        levels,
        lineage,
    )


def find_forecasts(pattern: str, model_name: str | None = None) -> list[PastForecast]:
    """The forecasts matching glob ``pattern`` (lineage sidecars themselves skipped), of
    ``model_name`` only when given, sorted by as-of time.

    Raises:
        DataError: nothing matches, a file has no usable lineage, or none is of ``model_name``.
    """
    paths = sorted(
        Path(p)
        for p in glob.glob(str(Path(pattern).expanduser()), recursive=True)
        if not p.endswith(LINEAGE_SUFFIX) and Path(p).is_file()
    )
    if not paths:
        raise DataError(f"--forecasts {pattern!r}: no forecast file matches")
    found = [read_past_forecast(p) for p in paths]
    if model_name is not None:
        found = of_model(found, model_name, pattern)
    return sorted(found, key=lambda f: (f.as_of, str(f.path)))


def of_model(found: list[PastForecast], model_name: str, pattern: str) -> list[PastForecast]:
    """The forecasts of registered model ``model_name``; none is bad input."""
    kept = [f for f in found if f.model_name == model_name]
    if not kept:
        names = sorted({f.model_name for f in found})
        raise DataError(
            f"--forecasts {pattern!r}: none of the {len(found)} forecasts is of model "
            f"{model_name!r} (their models: {', '.join(names)})"
        )
    return kept
