"""Accuracy on ETTh1 under the standard long-horizon protocol, with the product's own parts.

The protocol (Informer, AAAI 2021; DLinear, AAAI 2023): rows [0, 8640) train, [8640, 11520)
validation, [11520, 14400) test, later rows unused; every column z-scored with the mean and
standard deviation of its training rows; test windows at every hour; MSE and MAE reported on
the z-scored data. Univariate = the target ``OT``; multivariate = all seven columns, which
our models treat as seven independent series.

That protocol is our windowing with ``val_fraction = test_fraction = 0.2`` of 14,400 rows, one
backtest fold and a backtest stride of 1, and per-series standard scaling fitted on the
training part; so the baselines computed here must reproduce the published naive numbers,
and the RNNs are scored exactly like them. The data file is the user's (the ETDataset
repository publishes it); nothing here downloads it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from forecasting.data import ID, TARGET, TIME, Columns, SeriesData, load_series
from forecasting.errors import DataError
from forecasting.evaluation.backtest import baseline_backtest, model_backtest
from forecasting.models.builder import ModelSpec, build_forecaster
from forecasting.models.training import TrainBudget, train
from forecasting.windowing import WindowedData, WindowSpec, make_windows

log = logging.getLogger(__name__)

TRAIN_ROWS, VAL_ROWS, TEST_ROWS = 8640, 2880, 2880
USED_ROWS = TRAIN_ROWS + VAL_ROWS + TEST_ROWS
COLUMNS = ("HUFL", "HULL", "MUFL", "MULL", "LUFL", "LULL", "OT")
PERIOD = 24  # hourly data: seasonal naive repeats the last day

# Published test MSE (MAE): the naive rows were computed under this protocol by the project's
# reference notes; the model rows are quoted there from the Informer and DLinear papers.
REFERENCE: dict[tuple[str, int], dict[str, tuple[float, float | None]]] = {
    ("univariate", 24): {"naive": (0.034, 0.139), "seasonal_naive": (0.046, 0.166),
                         "Informer (paper)": (0.098, None), "LSTMa (paper)": (0.114, None),
                         "DeepAR (paper)": (0.107, None)},
    ("univariate", 96): {"naive": (0.069, 0.203), "seasonal_naive": (0.071, 0.211), "DLinear (paper)": (0.056, None)},
    ("multivariate", 24): {"naive": (1.222, 0.671), "seasonal_naive": (0.424, 0.389),
                           "Informer (paper)": (0.577, None), "LSTMa (paper)": (0.650, None)},
    ("multivariate", 96): {"naive": (1.294, 0.713), "seasonal_naive": (0.512, 0.433),
                           "DLinear (paper)": (0.375, 0.399)},
}


def load_etth1(path: str | Path, multivariate: bool = False) -> SeriesData:
    """The first 14,400 rows of ETTh1.csv as one series (``OT``) or seven (every column)."""
    path = Path(path)
    try:
        wide = pd.read_csv(path, nrows=USED_ROWS)
    except (OSError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: cannot read the ETTh1 CSV ({exc})") from exc
    missing = [c for c in ("date", *COLUMNS) if c not in wide.columns]
    if missing:
        raise DataError(f"{path}: column {missing[0]!r} not found; expected ETTh1's date, {', '.join(COLUMNS)}")
    if len(wide) < USED_ROWS:
        raise DataError(f"{path}: {len(wide)} rows, the protocol needs {USED_ROWS}")
    names = COLUMNS if multivariate else ("OT",)
    long = wide.melt(id_vars="date", value_vars=list(names), var_name=ID, value_name=TARGET)
    long = long.rename(columns={"date": TIME})
    return load_series(long, Columns(covariates=()), freq="h", name=str(path))


def protocol_spec(lookback: int, horizon: int) -> WindowSpec:
    """Our windowing configured as the standard protocol (targets of test windows in the last 2,880 rows)."""
    return WindowSpec(lookback=lookback, horizon=horizon, stride=1, val_fraction=VAL_ROWS / USED_ROWS,
                      test_fraction=TEST_ROWS / USED_ROWS, n_folds=1, backtest_stride=1)


def scaled_errors(windowed: WindowedData, forecasts: np.ndarray) -> tuple[float, float]:
    """MSE and MAE of original-scale test forecasts [N, H], measured on the z-scored data."""
    test = windowed.splits["test"]
    scale = np.array([s.scaler.scale_[0] for s in windowed.series])[test.series][:, None]
    err = (forecasts - windowed.actuals(test)) / scale
    return float(np.mean(err**2)), float(np.mean(np.abs(err)))


@dataclass(frozen=True)
class Etth1Score:
    model: str
    mse: float
    mae: float
    epochs: int | None = None
    train_seconds: float | None = None


def score_baselines(windowed: WindowedData) -> list[Etth1Score]:
    return [Etth1Score(kind, *scaled_errors(windowed, baseline_backtest(kind, windowed, PERIOD).forecasts))
            for kind in ("naive", "seasonal_naive")]


def score_rnn(windowed: WindowedData, spec: ModelSpec, budget: TrainBudget) -> Etth1Score:
    """Train one forecaster on the protocol's training rows, early-stopping on its validation rows."""
    import keras

    keras.utils.set_random_seed(budget.seed)
    model = build_forecaster(spec, windowed.spec.lookback, windowed.spec.horizon, windowed.n_features,
                             windowed.n_calendar, PERIOD)
    result = train(model, windowed, budget)
    bt = model_backtest(spec.cell, model, windowed, PERIOD)
    return Etth1Score(spec.cell, *scaled_errors(windowed, bt.forecasts), len(result.loss), result.seconds)


def etth1_windows(path: str | Path, horizon: int, lookback: int = 96, multivariate: bool = False) -> WindowedData:
    windowed = make_windows(load_etth1(path, multivariate), protocol_spec(lookback, horizon))
    split = windowed.series[0].split
    if (split.train_end, split.val_end) != (TRAIN_ROWS, TRAIN_ROWS + VAL_ROWS):  # the protocol's rows, exactly
        raise RuntimeError(f"windowing split ETTh1 at {split.train_end}/{split.val_end}, not at 8640/11520")
    return windowed


def markdown(scores: list[Etth1Score], setting: str, horizon: int) -> str:
    """Our scores next to the published ones for the same setting and horizon."""
    rows = ["| model | test MSE | test MAE | source |", "|---|---:|---:|---|"]
    for s in scores:
        rows.append(f"| {s.model} | {s.mse:.3f} | {s.mae:.3f} | measured here |")
    for name, (mse, mae) in REFERENCE.get((setting, horizon), {}).items():
        rows.append(f"| {name} | {mse:.3f} | {'–' if mae is None else f'{mae:.3f}'} | reference |")
    return "\n".join(rows)
