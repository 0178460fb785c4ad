"""Fixtures shared by the whole suite. Keep them small, quiet and generally useful."""

from __future__ import annotations

import os

# Set before anything imports TensorFlow or matplotlib.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("MPLBACKEND", "Agg")

from collections.abc import Callable  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402


def make_long_frame(
    n_series: int = 3,
    length: int = 24 * 14,
    freq: str = "h",
    start: str = "2024-01-01",
    seed: int = 0,
    covariates: int = 0,
) -> pd.DataFrame:
    """Long frame ``unique_id, ds, y[, x0, ...]``: a level, a daily cycle and noise per series.

    Series are named ``s0, s1, ...`` and have distinct levels (100, 200, ...), so a value
    identifies the series it came from.
    """
    rng = np.random.default_rng(seed)
    times = pd.date_range(start, periods=length, freq=freq)
    hours = (times - times[0]) / pd.Timedelta(hours=1)
    parts = []
    for i in range(n_series):
        daily = 5.0 * np.sin(2.0 * np.pi * np.asarray(hours) / 24.0 + i)
        part = pd.DataFrame(
            {
                "unique_id": f"s{i}",
                "ds": times,
                "y": 100.0 * (i + 1) + daily + rng.normal(0.0, 1.0, length),
            }
        )
        for c in range(covariates):
            part[f"x{c}"] = rng.normal(0.0, 1.0, length)
        parts.append(part)
    return pd.concat(parts, ignore_index=True)


@pytest.fixture
def synthetic_long_frame() -> Callable[..., pd.DataFrame]:
    """Factory: ``synthetic_long_frame(n_series=3, length=336, freq="h", ...)``."""
    return make_long_frame


@pytest.fixture
def write_csv(tmp_path: Path) -> Callable[..., Path]:
    """Write a DataFrame (or raw text) to ``tmp_path/name`` and return the path."""

    def write(data: pd.DataFrame | str, name: str = "series.csv") -> Path:
        path = tmp_path / name
        if isinstance(data, str):
            path.write_text(data)
        else:
            data.to_csv(path, index=False)
        return path

    return write


@dataclass(frozen=True)
class TinyComparison:
    """A tiny comparison that ran: its data file, store, config and result (with the backtests)."""

    data_csv: Path
    tracking_uri: str
    config: object  # forecasting.config.PipelineConfig
    result: object  # forecasting.experiments.compare.ComparisonResult


def _run_tiny_comparison(
    root: Path, frame: pd.DataFrame, name: str, model_name: str, lookback: int, horizon: int,
    gru_impl: str = "custom", seed: int = 42, skip: str = "seasonal",
) -> TinyComparison:
    """Write ``frame`` to ``root/history.csv`` and run a one-epoch LSTM-then-GRU comparison on it
    into a store under ``root``, registering ``model_name`` (@champion and @challenger).
    Every column besides id, time and target is a covariate. The process-wide MLflow URIs are
    reset afterwards."""
    import mlflow

    from forecasting.config import build_config
    from forecasting.experiments.compare import run_comparison

    data_csv = root / "history.csv"
    frame.to_csv(data_csv, index=False)
    uri = f"sqlite:///{root / 'mlruns' / 'mlflow.db'}"
    cfg = build_config({
        "name": name,
        "data": {"path": str(data_csv)},
        "windowing": {"lookback": lookback, "horizon": horizon, "n_folds": 1},
        "model": {"units": 8, "gru_impl": gru_impl, "skip": skip},
        "training": {"max_epochs": 1, "batch_size": 64, "seed": seed},
        "mlflow": {"experiment": name, "model_name": model_name, "tracking_uri": uri},
    }, name)
    try:
        result = run_comparison(cfg)
    finally:
        mlflow.set_tracking_uri(None)
        mlflow.set_registry_uri(None)
    return TinyComparison(data_csv, uri, cfg, result)


def _register_tiny_comparison(*args, **kwargs) -> tuple[Path, str]:
    """As :func:`_run_tiny_comparison`; returns the CSV path and the store's URI."""
    ran = _run_tiny_comparison(*args, **kwargs)
    return ran.data_csv, ran.tracking_uri


@pytest.fixture(scope="session")
def register_tiny_comparison() -> Callable[..., tuple[Path, str]]:
    """Factory for module- or session-scoped fixtures that need a small registered forecaster."""
    return _register_tiny_comparison


@pytest.fixture(scope="session")
def run_tiny_comparison() -> Callable[..., TinyComparison]:
    """Factory like ``register_tiny_comparison`` that also returns the config and the result."""
    return _run_tiny_comparison
