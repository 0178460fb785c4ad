"""Fixtures shared by the whole suite. Keep them small, quiet and generally useful."""

from __future__ import annotations

import os

# Set before anything imports TensorFlow or matplotlib.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("MPLBACKEND", "Agg")

from collections.abc import Callable  # noqa: E402
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
