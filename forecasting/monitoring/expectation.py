"""What a registered version's backtest promised: the error to expect, its band, its coverage.

Everything comes from the comparison that registered the version (its ``comparison_run_id``
tag): ``comparison.csv`` (the table: MASE and interval coverage of every model and baseline on
the backtest windows) and ``backtest_mase_bands.csv`` (the numbers behind
``backtest_mase.png``: MASE with its 95% bootstrap interval over the backtest windows). A
comparison older than the bands file gives the expectation without a band; a version without a
comparison falls back to its ``backtest_mase`` tag.
"""

from __future__ import annotations

import logging
import math
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from forecasting.tracking.plots import BACKTEST_BANDS

log = logging.getLogger(__name__)

COMPARISON_TABLE = "comparison.csv"  # the parent run's table, one row per model ("model" index)
BASELINES = ("seasonal_naive", "naive")
NAN = float("nan")


@dataclass(frozen=True)
class Expectation:
    """The backtest numbers of one version and of the best baseline of its comparison."""

    family: str
    mase: float
    low: float = NAN  # 95% bootstrap band of the backtest MASE (NaN: not logged)
    high: float = NAN
    coverage: dict[int, float] = field(default_factory=dict)  # backtest coverage per level
    baseline: str = "seasonal_naive"
    baseline_mase: float = NAN
    comparison_run_id: str = ""

    @property
    def has_band(self) -> bool:
        return math.isfinite(self.low) and math.isfinite(self.high)


def _artifact(client, run_id: str, name: str) -> pd.DataFrame | None:
    with tempfile.TemporaryDirectory(prefix="forecast-evaluate-") as tmp:
        try:
            path = client.download_artifacts(run_id, name, tmp)
        except Exception:  # not logged by this (older) comparison, or the run is gone
            return None
        return pd.read_csv(Path(path), index_col=0)


def _float(value) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return NAN


def backtest_expectation(client, name: str, version: str, fallback: str | None) -> Expectation:
    """The expectation of ``name`` version ``version`` (``fallback``: the baseline its state
    forecasts short series with, the best baseline of its comparison)."""
    mv = client.get_model_version(name, version)
    tags = mv.tags or {}
    family = tags.get("model_family", "")
    run_id = tags.get("comparison_run_id", "")
    baseline = fallback or "seasonal_naive"
    table = bands = None
    if run_id:
        table = _artifact(client, run_id, COMPARISON_TABLE)
        bands = _artifact(client, run_id, BACKTEST_BANDS)
        try:
            best = client.get_run(run_id).data.tags.get("decision.best_baseline")
        except Exception:
            best = None
        baseline = best or baseline
    mase = NAN
    if table is not None and family in table.index and "mase" in table.columns:
        mase = _float(table.loc[family, "mase"])
    if not math.isfinite(mase) and tags.get("metric") == "mase":
        mase = _float(tags.get("backtest_mase"))
    low = high = NAN
    if bands is not None and family in bands.index:
        low, high = _float(bands.loc[family, "low"]), _float(bands.loc[family, "high"])
    elif run_id:
        log.info("%s v%s: its comparison logged no %s: no band", name, version, BACKTEST_BANDS)
    coverage = {}
    if table is not None and family in table.index:
        for column in table.columns:
            if column.startswith("coverage_") and column.removeprefix("coverage_").isdigit():
                coverage[int(column.removeprefix("coverage_"))] = _float(table.loc[family, column])
    baseline_mase = NAN
    if table is not None and baseline in table.index and "mase" in table.columns:
        baseline_mase = _float(table.loc[baseline, "mase"])
    return Expectation(family, mase, low, high, coverage, baseline, baseline_mase, run_id)
