"""One small LSTM-vs-GRU comparison, run once per session into its own SQLite store.

The data file uses non-default column names (``store``, ``timestamp``, ``sales``) and
series of different lengths, so a test can tell whether the packaged model maps the
user's columns back and forecasts from each series' own last timestamp.
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
os.environ.setdefault("GIT_PYTHON_REFRESH", "quiet")

from collections.abc import Iterator  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from pathlib import Path  # noqa: E402

import mlflow  # noqa: E402
import pytest  # noqa: E402

ID_COL, TIME_COL, TARGET_COL = "store", "timestamp", "sales"
LENGTHS = {"north": 700, "south": 720, "west": 690}  # different ends: per-series forecast times
LOOKBACK, HORIZON = 48, 12
MODEL_NAME = "experiments-test-forecaster"
EXPERIMENT = "experiments-test"


def write_sales_csv(path: Path, synthetic_panel, lengths: dict[str, int] = LENGTHS) -> Path:
    """The sales file: hourly ``store, timestamp, sales``, level 50 per store, a daily cycle, noise."""
    frame = synthetic_panel(lengths, start="2024-03-01", seed=7, level=50.0, amplitude=8.0, noise=1.5,
                            columns=(ID_COL, TIME_COL, TARGET_COL))
    frame[TIME_COL] = frame[TIME_COL].dt.strftime("%Y-%m-%d %H:%M:%S")
    frame.to_csv(path, index=False)
    return path


def small_config_tree(data_path: Path, tracking_uri: str) -> dict:
    """A pipeline config tree small enough to train both families in seconds."""
    return {
        "name": "experiments-test",
        "data": {"path": str(data_path), "id_col": ID_COL, "time_col": TIME_COL, "target": TARGET_COL},
        "windowing": {"lookback": LOOKBACK, "horizon": HORIZON, "n_folds": 2},
        "model": {"units": 8, "gru_impl": "custom"},
        "training": {"max_epochs": 2, "patience": 2, "batch_size": 64, "learning_rate": 0.005, "seed": 3},
        "rule": {"metric": "mase", "tolerance": 0.05, "alpha": 0.05, "test": "wilcoxon"},
        "mlflow": {"experiment": EXPERIMENT, "model_name": MODEL_NAME, "tracking_uri": tracking_uri},
    }


def sqlite_uri(folder: Path) -> str:
    return f"sqlite:///{folder / 'mlflow.db'}"


@dataclass
class SharedComparison:
    """The shared comparison's result and where it lives, with the data's shape for assertions."""

    result: object  # forecasting.experiments.compare.ComparisonResult
    config: object  # forecasting.config.PipelineConfig
    tracking_uri: str
    data_path: Path
    folder: Path
    model_name: str = MODEL_NAME
    lengths: dict[str, int] = field(default_factory=lambda: dict(LENGTHS))
    columns: tuple[str, str, str] = (ID_COL, TIME_COL, TARGET_COL)
    lookback: int = LOOKBACK
    horizon: int = HORIZON

    def client(self) -> mlflow.MlflowClient:
        return mlflow.MlflowClient(tracking_uri=self.tracking_uri, registry_uri=self.tracking_uri)


@pytest.fixture(scope="session")
def comparison(tmp_path_factory: pytest.TempPathFactory, synthetic_panel, reset_mlflow) -> Iterator[SharedComparison]:
    """The one end-to-end comparison the suite inspects: result + store URI."""
    from forecasting.config import build_config
    from forecasting.experiments.compare import run_comparison

    folder = tmp_path_factory.mktemp("comparison")
    data_path = write_sales_csv(folder / "sales.csv", synthetic_panel)
    uri = sqlite_uri(folder / "store")
    cfg = build_config(small_config_tree(data_path, uri), "test config")
    try:
        result = run_comparison(cfg)
    finally:
        reset_mlflow()
    yield SharedComparison(result, cfg, uri, data_path, folder)


@pytest.fixture
def sales_csv(tmp_path: Path, synthetic_panel):
    """Factory: ``sales_csv(lengths=None, name="sales.csv")`` writes the synthetic file, returns its path."""

    def write(lengths: dict[str, int] | None = None, name: str = "sales.csv") -> Path:
        return write_sales_csv(tmp_path / name, synthetic_panel, lengths or LENGTHS)

    return write


@pytest.fixture
def config_tree():
    """Factory: ``config_tree(data_path, tracking_uri)``, the small pipeline as a dict."""
    return small_config_tree


@pytest.fixture
def fresh_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A per-test SQLite store, made the default through ``MLFLOW_TRACKING_URI``."""
    uri = sqlite_uri(tmp_path / "store")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    monkeypatch.setenv("MLFLOW_REGISTRY_URI", uri)
    yield uri  # the suite's autouse fixture resets MLflow's process-wide URIs afterwards
