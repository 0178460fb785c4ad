"""`forecast benchmark accuracy`: ETTh1 under the standard long-horizon protocol, with our parts.

The protocol (Informer, AAAI 2021; DLinear, AAAI 2023): rows [0, 8640) train, [8640, 11520)
validation, [11520, 14400) test, later rows unused; every column z-scored with the mean and
standard deviation of its training rows; test windows at every hour; MSE and MAE reported on
the z-scored data. Univariate = the target ``OT``; multivariate = all seven columns as one
multichannel target: seven series, channel-independent, whose column the segment decoder embeds.

That protocol is our windowing with ``val_fraction = test_fraction = 0.2`` of 14,400 rows, one
backtest fold and a backtest stride of 1, and per-series standard scaling fitted on the
training part; so the baselines computed here must reproduce the published naive numbers,
and the RNNs are scored exactly like them. The data file is the user's (the ETDataset
repository publishes it); nothing here downloads it.

Three layers, each usable alone: :func:`evaluate` scores one model (a :class:`Forecaster`, that
is a recurrent family and its ``ModelSpec``, or a baseline's name) on one :class:`Setting`
(horizon, lookback, mode) and returns a :class:`Score` (MSE, MAE, seconds);
:func:`markdown_table` writes scores as tables beside the published numbers;
:func:`benchmark_accuracy` loops over settings and models for the CLI.

Settings left at ``auto`` (units, segment, epochs, batch size) are chosen from the windows of
each setting exactly as ``forecast compare`` chooses them (`forecasting.experiments.auto`),
and every score records the values it was trained with.
"""

from __future__ import annotations

import logging
import os
import platform
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd

from forecasting.benchmarks.recipe import QUICK, RECIPE  # noqa: F401  re-exported for callers
from forecasting.benchmarks.report import BenchmarkReport
from forecasting.config import AUTO, PipelineConfig
from forecasting.data import ID, TARGET, TIME, Columns, SeriesData, load_series
from forecasting.errors import ConfigError, DataError
from forecasting.evaluation.backtest import baseline_backtest, model_backtest
from forecasting.models.builder import ModelSpec, build_for_windows
from forecasting.models.training import TrainBudget, train
from forecasting.windowing import WindowedData, WindowSpec, make_windows

log = logging.getLogger(__name__)

TRAIN_ROWS, VAL_ROWS, TEST_ROWS = 8640, 2880, 2880
USED_ROWS = TRAIN_ROWS + VAL_ROWS + TEST_ROWS
COLUMNS = ("HUFL", "HULL", "MUFL", "MULL", "LUFL", "LULL", "OT")
PERIOD = 24  # hourly data: seasonal naive repeats the last day
MODES = ("univariate", "multivariate")
BASELINES = ("naive", "seasonal_naive")

# Published test MSE (MAE): the naive rows were computed under this protocol by the project's
# reference notes; the model rows are quoted there from the Informer and DLinear papers.
REFERENCE: dict[tuple[str, int], dict[str, tuple[float, float | None]]] = {
    ("univariate", 24): {
        "naive": (0.034, 0.139),
        "seasonal_naive": (0.046, 0.166),
        "Informer (paper)": (0.098, None),
        "LSTMa (paper)": (0.114, None),
        "DeepAR (paper)": (0.107, None),
    },
    ("univariate", 96): {
        "naive": (0.069, 0.203),
        "seasonal_naive": (0.071, 0.211),
        "DLinear (paper)": (0.056, None),
    },
    ("multivariate", 24): {
        "naive": (1.222, 0.671),
        "seasonal_naive": (0.424, 0.389),
        "Informer (paper)": (0.577, None),
        "LSTMa (paper)": (0.650, None),
    },
    ("multivariate", 96): {
        "naive": (1.294, 0.713),
        "seasonal_naive": (0.512, 0.433),
        "DLinear (paper)": (0.375, 0.399),
    },
}
# Published multivariate ETTh1 test MSE (MAE) at lookback 96, as tabulated in the SegRNN
# repository's README ("Comparison Results for Lookback L = 96"; the rows other than SegRNN are
# quoted there from the iTransformer paper). SegRNN is one GRU layer over segments.
PUBLISHED_L96: dict[int, dict[str, tuple[float, float]]] = {
    96: {
        "SegRNN": (0.368, 0.395),
        "iTransformer": (0.386, 0.405),
        "PatchTST": (0.414, 0.419),
        "DLinear": (0.386, 0.400),
    },
    192: {
        "SegRNN": (0.408, 0.419),
        "iTransformer": (0.441, 0.436),
        "PatchTST": (0.460, 0.445),
        "DLinear": (0.437, 0.432),
    },
    336: {
        "SegRNN": (0.444, 0.440),
        "iTransformer": (0.487, 0.458),
        "PatchTST": (0.501, 0.466),
        "DLinear": (0.481, 0.459),
    },
    720: {
        "SegRNN": (0.446, 0.457),
        "iTransformer": (0.503, 0.491),
        "PatchTST": (0.500, 0.488),
        "DLinear": (0.519, 0.516),
    },
}
for _h, _rows in PUBLISHED_L96.items():
    REFERENCE.setdefault(("multivariate", _h), {}).update(
        {f"{name} (L=96, SegRNN README)": row for name, row in _rows.items()}
    )


@dataclass(frozen=True)
class Setting:
    """Where a model is scored: ``horizon`` steps ahead from ``lookback`` steps, on ``mode``.

    ``univariate`` is the target ``OT`` alone; ``multivariate`` is all seven columns as one
    multichannel target (seven series whose column the network embeds).
    """

    horizon: int
    lookback: int = 96
    mode: str = "univariate"

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ConfigError(f"mode must be one of {', '.join(MODES)}, received: {self.mode!r}")
        if self.horizon < 1 or self.lookback < 1:
            raise ConfigError(
                f"horizon and lookback must be positive integers, received: {self.horizon}, {self.lookback}"
            )

    @property
    def multivariate(self) -> bool:
        return self.mode == "multivariate"


def load_etth1(path: str | Path, multivariate: bool = False, channels: bool = True) -> SeriesData:
    """The first 14,400 rows of ETTh1.csv as one series (``OT``) or seven (every column; with
    ``channels`` they are the seven channels of one multichannel target, so the segment
    decoder embeds each column, else seven unrelated series)."""
    path = Path(path)
    try:
        wide = pd.read_csv(path, nrows=USED_ROWS)
    except (OSError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: cannot read the ETTh1 CSV ({exc})") from exc
    missing = [c for c in ("date", *COLUMNS) if c not in wide.columns]
    if missing:
        raise DataError(
            f"{path}: column {missing[0]!r} not found; expected ETTh1's date, {', '.join(COLUMNS)}"
        )
    if len(wide) < USED_ROWS:
        raise DataError(f"{path}: {len(wide)} rows, the protocol needs {USED_ROWS}")
    if multivariate and channels:  # the product's multichannel target: --target HUFL,...,OT
        columns = Columns(time="date", target=COLUMNS, covariates=())
        return load_series(wide, columns, freq="h", name=str(path))
    names = COLUMNS if multivariate else ("OT",)
    long = wide.melt(id_vars="date", value_vars=list(names), var_name=ID, value_name=TARGET)
    long = long.rename(columns={"date": TIME})
    return load_series(long, Columns(covariates=()), freq="h", name=str(path))


def protocol_spec(lookback: int, horizon: int) -> WindowSpec:
    """Our windowing configured as the standard protocol (targets of test windows in the last 2,880 rows)."""
    return WindowSpec(
        lookback=lookback,
        horizon=horizon,
        stride=1,
        val_fraction=VAL_ROWS / USED_ROWS,
        test_fraction=TEST_ROWS / USED_ROWS,
        n_folds=1,
        backtest_stride=1,
    )


def scaled_errors(
    windowed: WindowedData, forecasts: np.ndarray, split: str = "test"
) -> tuple[float, float]:
    """MSE and MAE of original-scale forecasts [N, H] of ``split``'s windows, on the z-scored data."""
    test = windowed.splits[split]
    scale = np.array([s.scaler.scale_[0] for s in windowed.series])[test.series][:, None]
    err = (forecasts - windowed.actuals(test)) / scale
    return float(np.mean(err**2)), float(np.mean(np.abs(err)))


def protocol_windows(path: str | Path, setting: Setting, channels: bool = True) -> WindowedData:
    """ETTh1 at ``path`` windowed for ``setting`` under the protocol (split exactly at rows 8640 / 11520)."""
    windowed = make_windows(
        load_etth1(path, setting.multivariate, channels),
        protocol_spec(setting.lookback, setting.horizon),
    )
    split = windowed.series[0].split
    if (split.train_end, split.val_end) != (
        TRAIN_ROWS,
        TRAIN_ROWS + VAL_ROWS,
    ):  # the protocol's rows, exactly
        raise RuntimeError(
            f"windowing split ETTh1 at {split.train_end}/{split.val_end}, not at 8640/11520"
        )
    return windowed


class Forecaster(NamedTuple):
    """A recurrent forecaster to score: its family (``"lstm"`` or ``"gru"``) and architecture."""

    cell: str
    spec: ModelSpec

    def describe(self) -> dict:
        """The family and every setting of the architecture (for JSON and MLflow params)."""
        return {"cell": self.cell, **self.spec.model_dump()}


Model = Forecaster | str  # a recurrent forecaster, or a baseline's name (one of BASELINES)


def model_label(model: Model) -> str:
    """The name a model has in tables and metrics: the baseline's name or the recurrent cell."""
    return model if isinstance(model, str) else model.cell


def resolve_auto(
    forecaster: Forecaster, budget: TrainBudget, windowed: WindowedData
) -> tuple[Forecaster, TrainBudget]:
    """``forecaster`` and ``budget`` with every ``auto`` setting chosen from ``windowed``'s series,
    as `forecast compare` would choose it on the same data (hourly, season 24)."""
    cfg = PipelineConfig(windowing=windowed.spec, model=forecaster.spec, training=budget)
    if not cfg.unresolved():
        return forecaster, budget
    from forecasting.experiments.auto import resolve

    lengths = pd.Series([s.split.length for s in windowed.series])
    resolved, _ = resolve(cfg, lengths, pd.Timedelta(hours=1), PERIOD)
    return Forecaster(forecaster.cell, resolved.model), resolved.training


@dataclass(frozen=True)
class Score:
    """Test errors of one model in one setting, on the z-scored data.

    Attributes:
        setting: Horizon, lookback and mode.
        model: `model_label` of the model.
        mse: Mean squared error over every test window and step.
        mae: Mean absolute error, likewise.
        seconds: Wall time of training (forecasters only) and of forecasting every test window.
        epochs: Epochs trained (None for a baseline).
        trained_with: A forecaster's architecture and budget as trained, ``auto`` settings
            resolved (empty for a baseline).
    """

    setting: Setting
    model: str
    mse: float
    mae: float
    seconds: float
    epochs: int | None = None
    trained_with: dict = field(default_factory=dict)
    val_mse: float | None = None  # the same errors on the validation rows (forecasters only)
    val_mae: float | None = None


def evaluate(
    model: Model, setting: Setting, windowed: WindowedData, budget: TrainBudget | None = None
) -> Score:
    """Score one model in one setting under the protocol.

    A forecaster is trained on the training rows with early stopping on the validation rows
    (seeded with ``budget.seed``); a baseline just forecasts. Either way every test window is
    forecast on the original scale and scored on the z-scored data.

    Args:
        model: A `Forecaster` (built with `models.build_forecaster`) or a name in `BASELINES`.
        setting: The setting `windowed` was built for.
        windowed: `protocol_windows(path, setting)`; build it once and score every model on it.
        budget: Epochs, patience, batch size, learning rate, seed and loss; default
            `TrainBudget()`. ``auto`` settings of the budget and of the model are chosen from
            ``windowed`` (`resolve_auto`).

    Returns:
        The `Score`: MSE, MAE, seconds and epochs.
    """
    spec = windowed.spec
    if (spec.horizon, spec.lookback) != (setting.horizon, setting.lookback):
        raise ValueError(
            f"windows of lookback {spec.lookback}, horizon {spec.horizon} do not match {setting}"
        )
    started = time.perf_counter()
    trained_with = {}
    if isinstance(model, str):
        if model not in BASELINES:
            raise ConfigError(f"a baseline is one of {', '.join(BASELINES)}, received: {model!r}")
        forecasts, epochs = baseline_backtest(model, windowed, PERIOD).forecasts, None
    else:
        import keras

        model, budget = resolve_auto(model, budget or TrainBudget(), windowed)
        keras.utils.set_random_seed(budget.seed)
        network = build_for_windows(model.cell, model.spec, windowed, PERIOD)
        epochs = len(train(network, windowed, budget, period=PERIOD).loss)
        forecasts = model_backtest(model.cell, network, windowed, PERIOD).forecasts
        trained_with = {"model": model.spec.model_dump(), "training": budget.model_dump()}
        val = windowed.splits["val"]
        val_forecasts = windowed.inverse(
            network.predict(val.inputs, batch_size=1024, verbose=0), val.series
        )
        val_errors = scaled_errors(windowed, val_forecasts, "val")
    mse, mae = scaled_errors(windowed, forecasts)
    seconds = time.perf_counter() - started
    log.info(
        "%s, %s: test MSE %.3f, MAE %.3f (%.0f s)", setting, model_label(model), mse, mae, seconds
    )
    return Score(
        setting,
        model_label(model),
        mse,
        mae,
        seconds,
        epochs,
        trained_with,
        *(val_errors if trained_with else (None, None)),
    )


def selected_on_validation(scores: Sequence[Score]) -> list[Score]:
    """For each mode, horizon and model, the score of the lookback with the lowest validation MAE
    (the loss the networks are trained on); baselines keep their first lookback's score."""
    best: dict[tuple, Score] = {}
    for s in scores:
        key = (s.setting.mode, s.setting.horizon, s.model)
        if key not in best or (s.val_mae is not None and s.val_mae < best[key].val_mae):
            best[key] = s
    return list(best.values())


def summary_table(scores: Sequence[Score], show_lookback: bool = False) -> str:
    """One row per mode and horizon: MSE (MAE) of every model, then the published rows."""
    models = list(dict.fromkeys(s.model for s in scores))
    published = ["SegRNN", "iTransformer", "PatchTST", "DLinear"]
    header = (
        "| mode | H | "
        + " | ".join(models)
        + " | "
        + " | ".join(f"{p} (L=96)" for p in published)
        + " |"
    )
    rows = [header, "|---|---:|" + "---|" * (len(models) + len(published))]
    keys = list(dict.fromkeys((s.setting.mode, s.setting.horizon) for s in scores))
    for mode, horizon in keys:
        cells = []
        for m in models:
            found = [
                s
                for s in scores
                if (s.setting.mode, s.setting.horizon, s.model) == (mode, horizon, m)
            ]
            if not found:
                cells.append("–")
                continue
            s = found[0]
            where = f" L={s.setting.lookback}" if show_lookback and s.val_mae is not None else ""
            cells.append(f"{s.mse:.3f} ({s.mae:.3f}){where}")
        ref = PUBLISHED_L96.get(horizon, {}) if mode == "multivariate" else {}
        cells += [f"{ref[p][0]:.3f} ({ref[p][1]:.3f})" if p in ref else "–" for p in published]
        rows.append(f"| {mode} | {horizon} | " + " | ".join(cells) + " |")
    return "\n".join(rows) + "\n"


def markdown_table(scores: Sequence[Score]) -> str:
    """One table per setting (in order of first appearance): our scores, then the published ones."""
    settings = list(dict.fromkeys(s.setting for s in scores))
    parts = []
    for setting in settings:
        rows = [
            f"ETTh1, {setting.mode}, horizon {setting.horizon}, lookback {setting.lookback}:",
            "",
            "| model | test MSE | test MAE | seconds | epochs | source |",
            "|---|---:|---:|---:|---:|---|",
        ]
        for s in scores:
            if s.setting == setting:
                epochs = "–" if s.epochs is None else str(s.epochs)
                rows.append(
                    f"| {s.model} | {s.mse:.3f} | {s.mae:.3f} | {s.seconds:.1f} | {epochs} | measured here |"
                )
        for name, (mse, mae) in REFERENCE.get((setting.mode, setting.horizon), {}).items():
            rows.append(
                f"| {name} | {mse:.3f} | {'–' if mae is None else f'{mae:.3f}'} | – | – | reference |"
            )
        parts.append("\n".join(rows))
    return "\n\n".join(parts) + "\n"


def benchmark_accuracy(
    path: str | Path,
    settings: Sequence[Setting],
    models: Sequence[Model],
    budget: TrainBudget | None = None,
    channels: bool = True,
) -> BenchmarkReport:
    """Score every model in every setting (windows built once per setting).

    Args:
        path: ETTh1.csv.
        settings: Horizons, lookbacks and modes to score.
        models: `Forecaster`s and baseline names, scored in this order.
        budget: The training budget every forecaster gets; default `TrainBudget()`.
        channels: read the multivariate columns as one multichannel target (the network embeds
            each column); False: as seven unrelated series.

    Returns:
        A `BenchmarkReport` named ``etth1_accuracy``: the tables, every score as JSON, the
        settings, models and budget as MLflow params and every MSE, MAE and time as metrics.
    """
    budget = budget or TrainBudget()
    scores = []
    for setting in settings:
        windowed = protocol_windows(path, setting, channels)
        scores += [evaluate(model, setting, windowed, budget) for model in models]
    machine = f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores"
    forecasters = [m for m in models if not isinstance(m, str)]
    header = (
        f"Test MSE and MAE on the z-scored data; {', '.join(model_label(m) for m in models)}; "
        + "".join(
            f"{m.cell}: {m.spec.arch}, {_setting(m.spec.units)} units, skip={m.spec.skip}; "
            for m in forecasters
        )
        + f"at most {_setting(budget.max_epochs)} epochs (patience {budget.patience}), "
        f"batch {_setting(budget.batch_size)}, learning rate {budget.learning_rate:g}, loss {budget.loss}, "
        f"seed {budget.seed}; multivariate columns "
        f"{'embedded as channels' if channels else 'as unrelated series'}; {machine}.\n\n"
    )
    metrics = {}
    for s in scores:
        key = f"{s.setting.mode}.h{s.setting.horizon}.l{s.setting.lookback}.{s.model}"
        metrics |= {f"{key}.mse": s.mse, f"{key}.mae": s.mae, f"{key}.seconds": s.seconds}
    lookbacks = list(dict.fromkeys(s.lookback for s in settings))
    summary = f"Lookback {lookbacks[0]}, test MSE (MAE):\n\n" + summary_table(
        [s for s in scores if s.setting.lookback == lookbacks[0]]
    )
    if len(lookbacks) > 1:
        summary += (
            f"\nLookback chosen on the validation rows among {', '.join(map(str, lookbacks))} "
            "(lowest validation MAE; test scored once), test MSE (MAE):\n\n"
            + summary_table(selected_on_validation(scores), show_lookback=True)
        )
    return BenchmarkReport(
        name="etth1_accuracy",
        markdown=header + summary + "\nEvery configuration:\n\n" + markdown_table(scores),
        data={
            "data": str(path),
            "budget": budget.model_dump(),
            "models": [m if isinstance(m, str) else m.describe() for m in models],
            "scores": [asdict(s) for s in scores],
            "machine": machine,
        },
        params={
            "data": str(path),
            "settings": ";".join(f"{s.mode},{s.horizon},{s.lookback}" for s in settings),
            "channel_embedding": channels,
            "models": ";".join(model_label(m) for m in models),
            **{
                f"model.{m.cell}.{k}": v
                for m in forecasters
                for k, v in m.spec.model_dump().items()
            },
            **{f"budget.{k}": v for k, v in budget.model_dump().items()},
            "machine": machine,
        },
        metrics=metrics,
    )


def _setting(value) -> str:
    return "auto-chosen" if value == AUTO else str(value)
