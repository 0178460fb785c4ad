"""One forecaster builder for both recurrent families (LSTM and GRU).

The network reads the lookback window (scaled target, past covariates, calendar
features) with a stack of recurrent layers, joins the last hidden state with the
calendar features of the H target steps (known in advance), and emits all H
steps at once (a direct multi-horizon head).
"""

from __future__ import annotations

from dataclasses import dataclass

import keras

from forecasting.errors import ConfigError
from forecasting.models.skip import SKIPS, NaiveBase

CELLS = ("lstm", "gru")
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

    def __post_init__(self) -> None:
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


def _recurrent(spec: ModelSpec, return_sequences: bool, name: str) -> keras.layers.Layer:
    if spec.cell == "lstm":
        return keras.layers.LSTM(spec.units, return_sequences=return_sequences, name=name)
    if spec.gru_impl == "keras":
        return keras.layers.GRU(spec.units, return_sequences=return_sequences, name=name)
    from forecasting import layers

    if spec.gru_impl == "cell":
        return keras.layers.RNN(layers.GRUCell(spec.units), return_sequences=return_sequences, name=name)
    return layers.GRU(spec.units, return_sequences=return_sequences, name=name)


def build_forecaster(
    spec: ModelSpec, lookback: int, horizon: int, n_features: int, n_calendar: int, period: int = 1
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
    past = keras.Input((lookback, n_features), name="past")
    future = keras.Input((horizon, n_calendar), name="future")
    x = past
    for i in range(spec.layers):
        last = i == spec.layers - 1
        x = _recurrent(spec, return_sequences=not last, name=f"{spec.cell}_{i}")(x)
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
        m = period if spec.skip == "seasonal" and period <= lookback else 1
        base = NaiveBase(lookback, horizon, m, name="naive_base")(past)
        out = keras.layers.Add(name="base_plus_correction")([base, out])
    return keras.Model({"past": past, "future": future}, out, name=f"{spec.cell}_forecaster")
