"""One tiny real forecaster for every serving test: trained once per session (about 30 s).

Two hourly series of 600 points, lookback 24, horizon 6, 8 units, one epoch; the
comparison registers both families, so ``models:/tiny-forecaster@champion`` and
``@challenger`` exist in a SQLite store of its own.
"""

from __future__ import annotations

import os

os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")  # as the CLI sets it

import subprocess  # noqa: E402
import sys  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from pathlib import Path  # noqa: E402

import pandas as pd  # noqa: E402
import pytest  # noqa: E402

MODEL_NAME = "tiny-forecaster"
LOOKBACK, HORIZON = 24, 6
REPO = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class ServedModel:
    root: Path
    tracking_uri: str
    name: str
    data_csv: Path  # the training file: 2 series, 600 hourly points each
    frame: pd.DataFrame

    @property
    def champion(self) -> str:
        return f"models:/{self.name}@champion"

    def env(self, **extra: str) -> dict[str, str]:
        """Environment for a `forecast` subprocess that uses this store."""
        env = dict(os.environ)
        env.update({"MLFLOW_TRACKING_URI": self.tracking_uri, "TF_CPP_MIN_LOG_LEVEL": "2"}, **extra)
        env.pop("FORECAST_STATE_DIR", None)
        return env


@pytest.fixture(scope="session")
def served_model(tmp_path_factory, register_tiny_comparison, synthetic_panel) -> ServedModel:
    root = tmp_path_factory.mktemp("served-model")
    frame = synthetic_panel(["s0", "s1"], 600, seed=3)
    data_csv, uri = register_tiny_comparison(root, frame, "serving-tests", MODEL_NAME, LOOKBACK, HORIZON,
                                             gru_impl="keras")
    return ServedModel(root, uri, MODEL_NAME, data_csv, frame)


def run_forecast(args: list[str], env: dict[str, str], cwd: Path, timeout: float = 180) -> subprocess.CompletedProcess:
    """Run the real `forecast` command line in a subprocess."""
    return subprocess.run(
        [sys.executable, "-m", "forecasting", *args],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout,
    )


@pytest.fixture(scope="session")
def forecast_cli():
    """``forecast_cli(args, env, cwd)``: the real command line in a subprocess."""
    return run_forecast
