"""Fixtures shared by the whole suite. Keep them small, quiet and generally useful."""

from __future__ import annotations

import os
import sys

# Set before anything imports TensorFlow or matplotlib.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("MPLBACKEND", "Agg")

from collections.abc import Callable, Mapping, Sequence  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402


def make_panel(
    series: int | Sequence[str] | Mapping[str, int] = 3,
    length: int = 24 * 14,
    *,
    freq: str = "h",
    start: str = "2024-01-01",
    seed: int = 0,
    level: float = 100.0,
    amplitude: float = 5.0,
    noise: float = 1.0,
    covariates: int = 0,
    columns: tuple[str, str, str] = ("unique_id", "ds", "y"),
) -> pd.DataFrame:
    """The suite's one synthetic panel: long format, per series a level, a daily cycle and noise.

    Series ``i`` is ``level * (i + 1) + amplitude * sin(2 pi t / 24 h + i) + N(0, noise)`` at
    ``t`` hours since its start, so a value tells which series it came from. Covariates
    ``x0, x1, ...`` are standard normal noise.

    Args:
        series: how many (named ``s0, s1, ...``), their ids, or ids with a length each.
        length: points per series, unless ``series`` gives each its own.
        columns: the id, time and target column names.
    """
    if isinstance(series, int):
        series = [f"s{i}" for i in range(series)]
    lengths = dict(series) if isinstance(series, Mapping) else dict.fromkeys(series, length)
    id_col, time_col, target_col = columns
    rng = np.random.default_rng(seed)
    parts = []
    for i, (uid, n) in enumerate(lengths.items()):
        times = pd.date_range(start, periods=n, freq=freq)
        hours = np.asarray((times - times[0]) / pd.Timedelta(hours=1))
        daily = amplitude * np.sin(2.0 * np.pi * hours / 24.0 + i)
        part = pd.DataFrame({id_col: uid, time_col: times, target_col: level * (i + 1) + daily + rng.normal(0.0, noise, n)})
        for c in range(covariates):
            part[f"x{c}"] = rng.normal(0.0, 1.0, n)
        parts.append(part)
    return pd.concat(parts, ignore_index=True)


@pytest.fixture(scope="session")
def synthetic_panel() -> Callable[..., pd.DataFrame]:
    """:func:`make_panel`, for tests and fixtures: ``synthetic_panel(series, length, **kw)``."""
    return make_panel


# MLflow's URI variables as the suite found them, before any test or fixture changed them.
_MLFLOW_URI_VARS = ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI")
_ORIGINAL_URI_VARS = {name: os.environ.get(name) for name in _MLFLOW_URI_VARS}


def _reset_mlflow() -> None:
    """MLflow's process-wide URIs unset, its URI variables as the suite found them, no active run.

    ``mlflow.set_tracking_uri`` (which the product's ``use_store`` calls) also exports
    ``MLFLOW_TRACKING_URI``, and ``set_registry_uri`` exports ``MLFLOW_REGISTRY_URI``, which
    ``set_registry_uri(None)`` leaves behind: without a reset, one test's store becomes the
    next test's default and the store of its subprocesses.
    """
    mlflow = sys.modules.get("mlflow")  # nothing to undo where MLflow was never imported
    if mlflow is not None:
        while mlflow.active_run() is not None:
            mlflow.end_run(status="KILLED")
        mlflow.set_tracking_uri(None)
        mlflow.set_registry_uri(None)
    for name, value in _ORIGINAL_URI_VARS.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


@pytest.fixture(autouse=True)
def _mlflow_does_not_leak_between_tests():
    yield
    _reset_mlflow()


@pytest.fixture(scope="session")
def reset_mlflow() -> Callable[[], None]:
    """For session- and module-scoped fixtures that write to a store of their own: call it
    when done, so that the test which first needed them starts clean too."""
    return _reset_mlflow


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
        _reset_mlflow()
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
