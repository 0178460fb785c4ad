"""Fixtures shared by the whole suite. Keep them small, quiet and generally useful."""

from __future__ import annotations

import os
import sys

# Set before anything imports TensorFlow, matplotlib or MLflow.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")  # as the CLI sets it
os.environ.setdefault("GIT_PYTHON_REFRESH", "quiet")

from collections.abc import Callable, Iterator, Mapping, Sequence  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import TYPE_CHECKING  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from hypothesis import settings  # noqa: E402

# Property tests draw the same examples on every run, so a suite that passed passes again; set
# HYPOTHESIS_PROFILE=explore to search far wider with fresh random draws when changing the code
# a property covers (a failure found there becomes an explicit example in the test).
settings.register_profile("default", max_examples=50, derandomize=True)
settings.register_profile("explore", max_examples=2000, derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

if TYPE_CHECKING:  # imported where used: most tests never need MLflow
    import mlflow


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
        part = pd.DataFrame(
            {
                id_col: uid,
                time_col: times,
                target_col: level * (i + 1) + daily + rng.normal(0.0, noise, n),
            }
        )
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
    root: Path,
    frame: pd.DataFrame,
    name: str,
    model_name: str,
    lookback: int,
    horizon: int,
    gru_impl: str = "custom",
    seed: int = 42,
    skip: str = "seasonal",
    serve: str | None = "gru",
) -> TinyComparison:
    """Write ``frame`` to ``root/history.csv`` and run a one-epoch LSTM-then-GRU comparison on it
    into a store under ``root``, registering ``model_name``.
    Every column besides id, time and target is a covariate. A one-epoch network rarely beats the
    best baseline, so the comparison's champion is often that baseline; tests that serve a network
    get the ``serve`` family promoted by hand (``forecast models promote``), as a user would.
    The process-wide MLflow URIs are reset afterwards."""
    from forecasting.config import build_config
    from forecasting.experiments.compare import run_comparison

    data_csv = root / "history.csv"
    frame.to_csv(data_csv, index=False)
    uri = f"sqlite:///{root / 'mlruns' / 'mlflow.db'}"
    cfg = build_config(
        {
            "name": name,
            "data": {"path": str(data_csv)},
            "windowing": {"lookback": lookback, "horizon": horizon, "n_folds": 1},
            "model": {"units": 8, "gru_impl": gru_impl, "skip": skip},
            "training": {"max_epochs": 1, "batch_size": 64, "seed": seed},
            "mlflow": {"experiment": name, "model_name": model_name, "tracking_uri": uri},
        },
        name,
    )
    try:
        result = run_comparison(cfg)
        if serve is not None and result.decision.candidate != serve:
            from forecasting.tracking.registry import promote

            promote(model_name, result.families[serve].version, uri)
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


# One tiny real forecaster for every test that serves or resolves a registered model: trained
# once per session (about 30 s). Two hourly series of 600 points, lookback 24, horizon 6, 8 units,
# one epoch; the comparison registers both families, so ``models:/tiny-forecaster@champion`` and
# ``@challenger`` exist in a SQLite store of its own.
SERVED_MODEL_NAME = "tiny-forecaster"
SERVED_LOOKBACK, SERVED_HORIZON = 24, 6


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
    data_csv, uri = register_tiny_comparison(
        root,
        frame,
        "serving-tests",
        SERVED_MODEL_NAME,
        SERVED_LOOKBACK,
        SERVED_HORIZON,
        gru_impl="keras",
    )
    return ServedModel(root, uri, SERVED_MODEL_NAME, data_csv, frame)


# One small LSTM-vs-GRU comparison, run once per session into its own SQLite store.
#
# The data file uses non-default column names (``store``, ``timestamp``, ``sales``) and
# series of different lengths, so a test can tell whether the packaged model maps the
# user's columns back and forecasts from each series' own last timestamp.
ID_COL, TIME_COL, TARGET_COL = "store", "timestamp", "sales"
LENGTHS = {"north": 700, "south": 720, "west": 690}  # different ends: per-series forecast times
LOOKBACK, HORIZON = 48, 12
MODEL_NAME = "experiments-test-forecaster"
EXPERIMENT = "experiments-test"


def write_sales_csv(path: Path, synthetic_panel, lengths: dict[str, int] = LENGTHS) -> Path:
    """The sales file: hourly ``store, timestamp, sales``, level 50 per store, a daily cycle, noise."""
    frame = synthetic_panel(
        lengths,
        start="2024-03-01",
        seed=7,
        level=50.0,
        amplitude=8.0,
        noise=1.5,
        columns=(ID_COL, TIME_COL, TARGET_COL),
    )
    frame[TIME_COL] = frame[TIME_COL].dt.strftime("%Y-%m-%d %H:%M:%S")
    frame.to_csv(path, index=False)
    return path


def small_config_tree(data_path: Path, tracking_uri: str) -> dict:
    """A pipeline config tree small enough to train both families in seconds."""
    return {
        "name": "experiments-test",
        "data": {
            "path": str(data_path),
            "id_col": ID_COL,
            "time_col": TIME_COL,
            "target": TARGET_COL,
        },
        "windowing": {"lookback": LOOKBACK, "horizon": HORIZON, "n_folds": 2},
        "model": {"units": 8, "gru_impl": "custom"},
        "training": {
            "max_epochs": 2,
            "patience": 2,
            "batch_size": 64,
            "learning_rate": 0.005,
            "seed": 3,
        },
        "rule": {"metric": "mase", "tolerance": 0.05, "alpha": 0.05, "test": "wilcoxon"},
        "mlflow": {
            "experiment": EXPERIMENT,
            "model_name": MODEL_NAME,
            "tracking_uri": tracking_uri,
        },
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
        import mlflow

        return mlflow.MlflowClient(tracking_uri=self.tracking_uri, registry_uri=self.tracking_uri)


@pytest.fixture(scope="session")
def comparison(
    tmp_path_factory: pytest.TempPathFactory, synthetic_panel, reset_mlflow
) -> Iterator[SharedComparison]:
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


def _assert_nested_intervals(frame: pd.DataFrame) -> None:
    """The default 80 % and 95 % intervals nest around every forecast: lo95 <= lo80 < y_hat <
    hi80 <= hi95."""
    assert (frame["y_hat_lo_95"] <= frame["y_hat_lo_80"]).all()
    assert (frame["y_hat_lo_80"] < frame["y_hat"]).all()
    assert (frame["y_hat"] < frame["y_hat_hi_80"]).all()
    assert (frame["y_hat_hi_80"] <= frame["y_hat_hi_95"]).all()


@pytest.fixture(scope="session")
def assert_nested_intervals() -> Callable[[pd.DataFrame], None]:
    """Checks that a forecast frame's default intervals nest around its ``y_hat``."""
    return _assert_nested_intervals
