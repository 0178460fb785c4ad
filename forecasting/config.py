"""One typed pipeline config: validated once, logged to MLflow whole, enough to rebuild a model.

A YAML file (``pipelines/*.yaml``) maps onto :class:`PipelineConfig`; unknown keys and
wrong types are errors that name the key. ``--set a.b=value`` overrides any key.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PositiveInt,
    ValidationError,
    field_validator,
    model_validator,
)

from forecasting.errors import ConfigError

AUTO = "auto"
Auto = Literal["auto"]

# The names the rest of the product accepts; each is defined here once.
ARCHS = ("segment", "pointwise")
GRU_IMPLS = ("custom", "cell", "keras")
SKIPS = ("seasonal", "last", "none")
CENTERS = ("last", "mean")
LOSSES = ("scaled_mae", "mae", "mse", "huber")
METRICS = ("mae", "rmse", "smape", "mase")  # the column order of every metrics table
TESTS = ("wilcoxon", "diebold_mariano")
WARM_STARTS = (
    "auto",
    "latest",
    "cold",
)  # how a retrain starts each family (TrainBudget.warm_start)
DEFAULT_LEVELS = (80, 95)  # the prediction intervals every forecast carries unless told otherwise


class _Section(BaseModel):
    """One section of the pipeline config, and the one definition of its settings and defaults.

    The library's specs are these sections (``WindowSpec``, ``ModelSpec``, ``TrainBudget``,
    ``Rule``), so a default or a range is written once. Built directly (in library code or a
    test) a section raises :class:`ConfigError` naming the key, like the YAML does.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)
    _section: ClassVar[str] = ""

    def __init__(self, **data):
        try:
            super().__init__(**data)
        except ValidationError as exc:
            raise ConfigError(_detail(exc, self._section)) from None


class DataConfig(_Section):
    _section = "data"
    path: str = "bundled:city-temps"
    id_col: str = "unique_id"
    time_col: str = "ds"
    # One target column, or several: a multichannel target (each column read as its own series,
    # told apart by the segment network's channel embedding).
    target: str | list[str] = "y"
    covariates: list[str] | None = None
    freq: str | None = None
    fill: Literal["interpolate", "ffill", "drop"] = "interpolate"
    # The fill bound: a series with a larger share of invented points, or one gap longer than
    # max_gap steps (``season``: one season of the frequency), cannot be used as given.
    max_fill: float = Field(0.1, ge=0, le=1)
    max_gap: PositiveInt | Literal["season"] = "season"
    strict: bool = (
        False  # refuse the data when any series cannot be used, instead of leaving it out
    )
    # How the file is read: separator (None: sniffed), wide layout (a time column and one
    # column per series), timestamp format (strptime codes) or day-first order.
    sep: str | None = Field(None, min_length=1)
    wide: bool = False
    date_format: str | None = Field(None, min_length=1)
    dayfirst: bool | None = None

    @field_validator("target")
    @classmethod
    def _targets(cls, value):
        if isinstance(value, str):
            return value
        if not value:
            raise ValueError("name at least one target column")
        repeated = [t for i, t in enumerate(value) if t in value[:i]]
        if repeated:
            raise ValueError(f"target column {repeated[0]!r} is named twice")
        return value[0] if len(value) == 1 else list(value)

    def gap_steps(self, period: int) -> int:
        """The longest gap that may be filled, in steps (``season``: ``period``)."""
        return period if self.max_gap == "season" else self.max_gap

    def read_options(self) -> dict:
        """The keyword arguments of ``data.load_series`` that say how to read the file."""
        return {
            "sep": self.sep,
            "wide": self.wide,
            "date_format": self.date_format,
            "dayfirst": self.dayfirst,
        }


class WindowSpec(_Section):
    """How series become windows and how they are split by time.

    Args:
        lookback: L, observed steps fed to the model; ``auto``: chosen from the data.
        horizon: H, steps forecast at once.
        stride: step between consecutive training / validation windows; ``auto``: 1, or larger
            when a panel has more windows than a training epoch needs.
        val_fraction: share of each series (by time) whose targets validate (early stopping).
        test_fraction: share of each series held out for the rolling-origin backtest.
        n_folds: K backtest cutoffs spread evenly over the held-out tail.
        backtest_stride: step between backtest origins; default H (non-overlapping windows,
            so paired tests over windows are not inflated by overlap).
    """

    _section = "windowing"
    lookback: PositiveInt | Auto = AUTO
    horizon: PositiveInt = 24
    stride: PositiveInt | Auto = AUTO
    val_fraction: float = Field(0.1, gt=0, lt=1)
    test_fraction: float = Field(0.2, gt=0, lt=1)
    n_folds: PositiveInt = 3
    backtest_stride: PositiveInt | None = None

    @model_validator(mode="after")
    def _fractions(self):
        if self.val_fraction + self.test_fraction >= 0.9:
            raise ValueError("val_fraction + test_fraction must leave at least 10% for training")
        return self

    @property
    def step_backtest(self) -> int:
        return self.backtest_stride or self.horizon

    @property
    def step_train(self) -> int:
        return 1 if self.stride == AUTO else self.stride


class ModelSpec(_Section):
    """Architecture of the forecasters (the same for both families of a comparison).

    Args:
        arch: ``segment`` (per-window normalisation, the lookback read as segments, the horizon
            decoded in parallel) or ``pointwise`` (a recurrent stack over every step).
        units: width of the recurrent state; ``auto``: chosen from the size of the data.
        layers: recurrent layers (pointwise only).
        dropout: dropout rate (before the output projection in ``segment``).
        gru_impl: ``custom`` (our GRU layer), ``cell`` (``keras.layers.RNN(GRUCell)``) or
            ``keras`` (``keras.layers.GRU``, cuDNN on an NVIDIA GPU).
        skip: the naive forecast the network corrects: ``seasonal``, ``last`` or ``none``.
        segment: steps per segment (segment only); ``auto``: the season when it divides the
            lookback, else a divisor of it.
        center: per-window centring of the target (segment only): ``last`` value or ``mean``.
        scale: per-window scaling by the window's standard deviation (segment only).
        affine: learnable gain and bias after the per-window normalisation (segment only).
    """

    _section = "model"
    arch: Literal[ARCHS] = "segment"
    units: PositiveInt | Auto = AUTO
    layers: PositiveInt = 1
    dropout: float = Field(0.0, ge=0, lt=1)
    gru_impl: Literal[GRU_IMPLS] = "custom"
    skip: Literal[SKIPS] = "seasonal"
    segment: PositiveInt | Auto = AUTO
    center: Literal[CENTERS] = "last"
    scale: bool = True
    affine: bool = False

    def impl_tag(self, cell: str) -> str:
        return self.gru_impl if cell == "gru" else "n/a"


class TrainBudget(_Section):
    """The training budget; the same budget is given to every family in a comparison.

    Args:
        max_epochs: epochs at most; ``auto``: from the number of training windows.
        patience: epochs without a better validation loss before stopping.
        batch_size: windows per step; ``auto``: from the number of training windows.
        learning_rate: Adam's step size.
        seed: one seed for both families, so runs repeat exactly.
        windows_per_series: training windows of each series per epoch at most, drawn anew
            every epoch (seeded: both families see the same windows); ``None``: every window,
            every epoch. Validation and backtests always use every window.
        loss: ``scaled_mae`` (each window's absolute error divided by its lookback's mean
            absolute seasonal difference, so every series weighs alike), ``mae``, ``mse`` or
            ``huber``.
        warm_start: how a retrain (``forecast retrain``, a scheduled retrain) starts each family:
            ``latest`` from the weights of the family's own latest registered version (its
            architecture and feature layout must match, else the retrain is refused before
            anything is trained), ``cold`` from scratch, ``auto`` warm where it can and cold
            otherwise, saying which. ``forecast compare`` and ``forecast run`` train from scratch.
        warm_epochs: the fine-tuning budget of a warm start: epochs at most, with the same
            patience (0 keeps the registered weights as they are).
    """

    _section = "training"
    max_epochs: PositiveInt | Auto = AUTO
    patience: PositiveInt = 3
    batch_size: PositiveInt | Auto = AUTO
    learning_rate: float = Field(1e-3, gt=0)
    seed: int = 42
    loss: Literal[LOSSES] = "scaled_mae"
    warm_start: Literal[WARM_STARTS] = "auto"
    warm_epochs: int = Field(3, ge=0)
    windows_per_series: PositiveInt | None = None


class Rule(_Section):
    """The rule: keep the GRU unless the LSTM is better by more than ``tolerance`` on
    ``metric`` and the difference is significant (``test`` at level ``alpha``)."""

    _section = "rule"
    metric: Literal[METRICS] = "mase"
    tolerance: float = Field(0.05, ge=0, lt=1)
    alpha: float = Field(0.05, gt=0, lt=1)
    test: Literal[TESTS] = "wilcoxon"
    seasonal_period: PositiveInt | None = None


def level_problem(levels) -> str | None:
    """Why ``levels`` are not prediction-interval levels (integer percentages in 1..99), or None."""
    if not isinstance(levels, (list, tuple)):
        return "expected a list of integer percentages, e.g. [80, 95]"
    for level in levels:
        if isinstance(level, bool) or not isinstance(level, int):
            return f"level {level!r} is not an integer: give integer percentages from 1 to 99"
        if not 0 < level < 100:
            return f"level {level!r} is outside (0, 100): give integer percentages from 1 to 99"
    return None


def parse_levels(text: str, flag: str = "--levels") -> tuple[int, ...]:
    """``"80,95"`` -> ``(80, 95)``; an empty text is no intervals.

    Raises:
        ConfigError: one line naming ``flag``, the value and the level that is wrong.
    """
    items = [item.strip() for item in str(text).split(",") if item.strip()]
    levels = []
    for item in items:
        try:
            levels.append(int(item))
        except ValueError:
            levels.append(item)  # reported below as not an integer
    problem = level_problem(levels)
    if problem:
        raise ConfigError(f"{flag} {text!r}: {problem}")
    return tuple(sorted(set(levels)))


class IntervalSpec(_Section):
    """Prediction intervals (split-conformal, see :mod:`forecasting.models.conformal`).

    Args:
        levels: the nominal coverages in percent (integers from 1 to 99) of the intervals that
            backtests score and forecasts carry as ``y_hat_lo_<level>`` / ``y_hat_hi_<level>``;
            ``[]`` for none.
    """

    _section = "intervals"
    levels: tuple[int, ...] = DEFAULT_LEVELS

    @field_validator("levels", mode="before")
    @classmethod
    def _levels(cls, value):
        problem = level_problem(value)
        if problem:
            raise ValueError(problem)
        return tuple(sorted(set(value)))


class MonitoringConfig(_Section):
    """The drift alarm of ``forecast evaluate`` (see :mod:`forecasting.monitoring.drift`).

    Only fully observed forecasts count (every point of the horizon has passed); the alarm
    looks at the last ``last`` of them, and needs at least ``min_forecasts``.

    Args:
        margin: alarm when the mean realised MASE of the last forecasts exceeds the version's
            backtest MASE by more than this share of it (0.5: realised > 1.5 x backtest).
        coverage_floor: alarm when a p% interval covers less than this share of p% of the
            realised points (0.8: a 95% interval must cover at least 76%).
        last: K, the fully observed forecasts (newest first by as-of time) the alarm looks at.
        min_forecasts: fewer fully observed forecasts than this never raise an alarm.
    """

    _section = "monitoring"
    margin: float = Field(0.5, gt=0)
    coverage_floor: float = Field(0.8, gt=0, le=1)
    last: PositiveInt = 5
    min_forecasts: PositiveInt = 3

    @model_validator(mode="after")
    def _sample(self):
        if self.min_forecasts > self.last:
            raise ValueError(
                f"min_forecasts ({self.min_forecasts}) must not exceed last ({self.last})"
            )
        return self


class MlflowConfig(_Section):
    _section = "mlflow"
    experiment: str = "forecasting"
    model_name: str = "forecaster"
    tracking_uri: str | None = None


# ``auto`` settings a retrain chooses from the registry, not from the data.
NOT_FROM_DATA = ("training.warm_start",)

# The section names of the YAML file, for code that reads the config by section.
WindowingConfig, ModelConfig, TrainingConfig, RuleConfig = WindowSpec, ModelSpec, TrainBudget, Rule


class PipelineConfig(_Section):
    name: str = "pipeline"
    data: DataConfig = DataConfig()
    windowing: WindowSpec = WindowSpec()
    model: ModelSpec = ModelSpec()
    training: TrainBudget = TrainBudget()
    rule: Rule = Rule()
    intervals: IntervalSpec = IntervalSpec()
    monitoring: MonitoringConfig = MonitoringConfig()
    mlflow: MlflowConfig = MlflowConfig()

    def unresolved(self) -> list[str]:
        """Dotted keys still set to ``auto`` that are chosen from the data."""
        return [
            f"{name}.{key}"
            for name in ("windowing", "model", "training")
            for key, value in getattr(self, name)
            if value == AUTO and f"{name}.{key}" not in NOT_FROM_DATA
        ]


def _detail(exc: ValidationError, prefix: str = "") -> str:
    """The first error as ``key: message (received value)``."""
    err = exc.errors()[0]
    inner = err.get("ctx", {}).get("error")
    if isinstance(inner, ConfigError):  # a section validated inside another one already said it
        return str(inner)
    key = ".".join(
        [prefix] * bool(prefix) + [str(p) for p in err["loc"] if not _is_union_branch(p)]
    )
    key = key or "(top level)"
    if err["type"] == "extra_forbidden":
        return f"unknown key {key!r}"
    received = (
        f" (received {err['input']!r})"
        if "input" in err and not isinstance(err["input"], dict)
        else ""
    )
    return f"{key}: {err['msg'].removeprefix('Value error, ')}{received}"


def _first_error(exc: ValidationError, source: str) -> ConfigError:
    return ConfigError(f"{source}: {_detail(exc)}")


def _is_union_branch(part) -> bool:
    """Pydantic names the branch of ``int | 'auto'`` it tried (``int``, ``literal['auto']``)."""
    return isinstance(part, str) and (
        part in ("int", "float", "bool", "str") or part.startswith(("literal[", "constrained-"))
    )


def set_key(tree: dict, dotted: str, raw: str, source: str = "--set") -> None:
    """Apply ``a.b=value``; the value is parsed as YAML (numbers, booleans, lists)."""
    parts = dotted.split(".")
    node = tree
    for part in parts[:-1]:
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            raise ConfigError(f"{source}: {dotted!r}: {part!r} is not a section")
        node = child
    try:
        node[parts[-1]] = yaml.safe_load(raw) if raw != "" else None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{source}: {dotted}: cannot parse value {raw!r}") from exc


def build_config(
    tree: dict, source: str, overrides: list[str] | tuple[str, ...] = ()
) -> PipelineConfig:
    tree = dict(tree or {})
    for item in overrides:
        if "=" not in item:
            raise ConfigError(f"--set {item!r}: expected key=value")
        key, value = item.split("=", 1)
        set_key(tree, key.strip(), value.strip())
    try:
        return PipelineConfig.model_validate(tree)
    except ValidationError as exc:
        raise _first_error(exc, source) from None


def load_config(path: str | Path, overrides: list[str] | tuple[str, ...] = ()) -> PipelineConfig:
    path = Path(path)
    if not path.exists():
        raise ConfigError(f"{path}: pipeline config not found")
    try:
        tree = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise ConfigError(f"{path}: invalid YAML{where}") from exc
    if not isinstance(tree, dict):
        raise ConfigError(f"{path}: expected a mapping of sections at the top level")
    return build_config(tree, str(path), overrides)
