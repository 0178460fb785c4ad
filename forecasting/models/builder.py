"""One forecaster builder for both recurrent families (LSTM and GRU), two architectures.

``segment`` (the default): each window's target is normalised by its own statistics, the
lookback is read as segments by one recurrent layer and the horizon is decoded in parallel
(`forecasting.models.segment`). ``pointwise``: a stack of recurrent layers reads the lookback
step by step, the last state is joined with the calendar of the H target steps, and a dense
head emits all H steps at once. Both correct a naive forecast through a skip connection whose
head starts at zero, so an untrained forecaster *is* that naive forecast.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import keras

from forecasting.errors import ConfigError
from forecasting.models.instance_norm import CENTERS, InstanceDenorm, InstanceNorm
from forecasting.models.segment import SegmentRecurrent, recurrent_layer
from forecasting.models.skip import SKIPS, NaiveBase

log = logging.getLogger(__name__)

CELLS = ("lstm", "gru")
ARCHS = ("segment", "pointwise")
# custom: our optimised full-sequence layer; cell: keras.layers.RNN(our GRUCell);
# keras: keras.layers.GRU (the fused cuDNN kernel on an NVIDIA GPU).
GRU_IMPLS = ("custom", "cell", "keras")


@dataclass(frozen=True)
class ModelSpec:
    """Architecture of one forecaster."""

    cell: str = "gru"
    gru_impl: str = "custom"
    units: int = 64
    layers: int = 1
    dropout: float = 0.0
    skip: str = "seasonal"  # the network corrects a naive forecast: seasonal, last or none
    arch: str = "segment"
    segment: int = 24  # steps per segment (segment arch)
    center: str = "last"  # per-window normalisation of the target (segment arch)
    scale: bool = True  # per-window normalisation also divides by the window's standard deviation
    affine: bool = False  # learnable gain and bias after the per-window normalisation

    def __post_init__(self) -> None:
        if self.arch not in ARCHS:
            raise ConfigError(f"arch must be one of {', '.join(ARCHS)}, received: {self.arch!r}")
        if self.center not in CENTERS:
            raise ConfigError(f"center must be one of {', '.join(CENTERS)}, received: {self.center!r}")
        if self.segment <= 0:
            raise ConfigError(f"segment must be positive, received: {self.segment}")
        if self.cell not in CELLS:
            raise ConfigError(f"cell must be one of {', '.join(CELLS)}, received: {self.cell!r}")
        if self.gru_impl not in GRU_IMPLS:
            raise ConfigError(f"gru_impl must be one of {', '.join(GRU_IMPLS)}, received: {self.gru_impl!r}")
        if self.units <= 0 or self.layers <= 0:
            raise ConfigError(f"units and layers must be positive, received: {self.units}, {self.layers}")
        if not 0.0 <= self.dropout < 1.0:
            raise ConfigError(f"dropout must be in [0, 1), received: {self.dropout}")
        if self.skip not in SKIPS:
            raise ConfigError(f"skip must be one of {', '.join(SKIPS)}, received: {self.skip!r}")

    @property
    def impl_tag(self) -> str:
        return self.gru_impl if self.cell == "gru" else "n/a"


def known_calendar(names: list[str] | None, n_calendar: int) -> list[int]:
    """Indices of the calendar features the segment decoder reads: cycles shorter than a year.

    Day of year is left out: most training sets span a year or two, and a feature that names
    the day of the year then lets the network memorise the training year instead of learning
    the series' dynamics (the yearly cycle is read from the lookback when it is long enough).
    """
    if names is None:
        return list(range(n_calendar))
    return [i for i, name in enumerate(names) if not name.startswith("doy")]


def _base_period(spec: ModelSpec, lookback: int, period: int) -> int:
    return period if spec.skip == "seasonal" and period <= lookback else 1


def log_kernel(spec: ModelSpec) -> None:
    """Say which recurrent kernel training will run (our GRU picks its fastest one)."""
    if spec.cell == "lstm":
        kernel = "keras.layers.LSTM"
    elif spec.gru_impl == "custom":
        from forecasting.layers.gru_kernels import fastest_kernel

        kernel = f"forecasting.layers.GRU, kernel {fastest_kernel(spec.units, True)!r}"
    else:
        kernel = {"keras": "keras.layers.GRU", "cell": "keras.layers.RNN(forecasting.layers.GRUCell)"}[spec.gru_impl]
    log.info("%s (%s): %s", spec.cell.upper(), spec.arch, kernel)


def build_forecaster(
    spec: ModelSpec, lookback: int, horizon: int, n_features: int, n_calendar: int, period: int = 1,
    calendar_names: list[str] | None = None,
) -> keras.Model:
    """Build (uncompiled) ``{"past": [B, L, F], "future": [B, H, K]} -> [B, H]``.

    With ``spec.skip="seasonal"`` the output is the seasonal-naive forecast (period
    ``period``, or the last value when the lookback is shorter than a season) plus the
    network's correction; ``"none"`` makes the network forecast the level directly.

    Example:
        >>> model = build_forecaster(ModelSpec("gru"), 48, 24, 7, 6)
        >>> model.output_shape
        (None, 24)
    """
    log_kernel(spec)
    if spec.arch == "segment":
        return _segment_forecaster(spec, lookback, horizon, n_features, n_calendar, period, calendar_names)
    return _pointwise_forecaster(spec, lookback, horizon, n_features, n_calendar, period)


def _segment_forecaster(
    spec: ModelSpec, lookback: int, horizon: int, n_features: int, n_calendar: int, period: int,
    calendar_names: list[str] | None,
) -> keras.Model:
    if spec.segment > lookback:
        raise ConfigError(f"segment length {spec.segment} is longer than the lookback {lookback}")
    past = keras.Input((lookback, n_features), name="past")
    future = keras.Input((horizon, n_calendar), name="future")
    past_norm, loc, scale = InstanceNorm(spec.center, spec.scale, spec.affine, name="instance_norm")(past)
    correction = SegmentRecurrent(
        spec.cell, spec.units, spec.segment, horizon, spec.gru_impl, spec.dropout,
        past_features=n_features - n_calendar,  # the target and past covariates, not the past calendar
        known_features=known_calendar(calendar_names, n_calendar), name="segment_rnn",
    )([past_norm, future])
    out = correction
    if spec.skip != "none":
        base = NaiveBase(lookback, horizon, _base_period(spec, lookback, period), name="naive_base")(past_norm)
        out = keras.layers.Add(name="base_plus_correction")([base, correction])
    out = InstanceDenorm(name="instance_denorm")([out, loc, scale])
    return keras.Model({"past": past, "future": future}, out, name=f"{spec.cell}_forecaster")


def _pointwise_forecaster(
    spec: ModelSpec, lookback: int, horizon: int, n_features: int, n_calendar: int, period: int
) -> keras.Model:
    past = keras.Input((lookback, n_features), name="past")
    future = keras.Input((horizon, n_calendar), name="future")
    x = past
    for i in range(spec.layers):
        last = i == spec.layers - 1
        x = recurrent_layer(spec.cell, spec.units, spec.gru_impl, f"{spec.cell}_{i}", return_sequences=not last)(x)
        if spec.dropout:
            x = keras.layers.Dropout(spec.dropout, name=f"dropout_{i}")(x)
    known = keras.layers.Flatten(name="future_flat")(future)  # [B, H, K] -> [B, H*K]
    h = keras.layers.Concatenate(name="join")([x, known])
    h = keras.layers.Dense(spec.units, activation="relu", name="mix")(h)
    if spec.skip == "none":
        out = keras.layers.Dense(horizon, name="horizon")(h)  # [B, H]: all steps at once
    else:
        # Zero-initialised, so an untrained model forecasts exactly the naive base.
        out = keras.layers.Dense(horizon, kernel_initializer="zeros", name="horizon")(h)
        base = NaiveBase(lookback, horizon, _base_period(spec, lookback, period), name="naive_base")(past)
        out = keras.layers.Add(name="base_plus_correction")([base, out])
    return keras.Model({"past": past, "future": future}, out, name=f"{spec.cell}_forecaster")
