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

import keras

from forecasting.config import AUTO, ModelSpec
from forecasting.errors import ConfigError
from forecasting.models.instance_norm import InstanceDenorm, InstanceNorm
from forecasting.models.segment import SegmentRecurrent, choose_segment, recurrent_layer
from forecasting.models.skip import NaiveBase

log = logging.getLogger(__name__)

CELLS = ("lstm", "gru")


def known_calendar(names: list[str] | None, n_calendar: int) -> list[int]:
    """Indices of the calendar features the segment decoder reads: cycles shorter than a year.

    Day of year is left out: most training sets span a year or two, and a feature that names
    the day of the year then lets the network memorise the training year instead of learning
    the series' dynamics (the yearly cycle is read from the lookback when it is long enough).
    """
    if names is None:
        return list(range(n_calendar))
    return [i for i, name in enumerate(names) if not name.startswith("doy")]


def _plus_base(spec: ModelSpec, past, correction, period: int):
    """``naive base of past's feature 0 + correction``: [B, L, F], [B, H] -> [B, H]."""
    lookback, horizon = past.shape[1], correction.shape[1]
    base = NaiveBase(lookback, horizon, _base_period(spec, lookback, period), name="naive_base")(
        past
    )
    return keras.layers.Add(name="base_plus_correction")([base, correction])


def _base_period(spec: ModelSpec, lookback: int, period: int) -> int:
    return period if spec.skip == "seasonal" and period <= lookback else 1


def untrained_forecast(spec: ModelSpec, lookback: int, period: int) -> str:
    """What a network with its starting weights forecasts (its output head starts at zero):
    ``seasonal_naive`` or ``naive`` for a naive base, else the window's or the training mean."""
    if spec.skip != "none":
        return "seasonal_naive" if _base_period(spec, lookback, period) > 1 else "naive"
    if spec.arch == "segment":
        return "naive" if spec.center == "last" else "window mean"
    return "training mean"


def log_kernel(cell: str, spec: ModelSpec) -> None:
    """Say which recurrent kernel training will run (our GRU picks its fastest one)."""
    if cell == "lstm":
        kernel = "keras.layers.LSTM"
    elif spec.gru_impl == "custom":
        from forecasting.layers.gru_kernels import fastest_kernel

        kernel = f"forecasting.layers.GRU, kernel {fastest_kernel(spec.units, True)!r}"
    else:
        kernel = {
            "keras": "keras.layers.GRU",
            "cell": "keras.layers.RNN(forecasting.layers.GRUCell)",
        }[spec.gru_impl]
    log.info("%s (%s, %d units): %s", cell.upper(), spec.arch, spec.units, kernel)


def build_forecaster(
    cell: str,
    spec: ModelSpec,
    lookback: int,
    horizon: int,
    n_features: int,
    n_calendar: int,
    period: int = 1,
    calendar_names: list[str] | None = None,
    n_channels: int = 0,
) -> keras.Model:
    """Build (uncompiled) ``{"past": [B, L, F], "future": [B, H, K]} -> [B, H]``, plus the input
    ``"channel": [B]`` (each window's target column) for a multichannel target.

    Args:
        cell: ``"gru"`` or ``"lstm"``.
        spec: the architecture; ``units`` must be resolved (not ``auto``); an ``auto`` segment
            length is the season when it divides the lookback (see `choose_segment`).
        lookback, horizon: L and H.
        n_features: F, features per past step (target, past covariates, calendar).
        n_calendar: K, calendar features per step (the last K of the past features).
        period: the season m of the seasonal-naive base.
        calendar_names: names of the K calendar features (the segment decoder leaves out
            day of year); ``None`` reads all.
        n_channels: columns of a multichannel target (0 or 1: one target). The segment
            decoder then learns an embedding per column; the pointwise network has none.

    With ``spec.skip="seasonal"`` the output is the seasonal-naive forecast (period
    ``period``, or the last value when the lookback is shorter than a season) plus the
    network's correction; ``"last"`` corrects the last value; ``"none"`` makes a pointwise
    network forecast the level directly (a segment network then corrects its window's centre).

    Example:
        >>> model = build_forecaster("gru", ModelSpec(units=16, segment=24), 48, 24, 7, 6)
        >>> model.output_shape
        (None, 24)
    """
    if cell not in CELLS:
        raise ConfigError(f"cell must be one of {', '.join(CELLS)}, received: {cell!r}")
    if spec.units == AUTO:
        raise ConfigError(
            "model.units is 'auto': choose it from the data first (forecast compare does)"
        )
    if spec.arch == "segment" and spec.segment == AUTO:
        spec = spec.model_copy(update={"segment": choose_segment(lookback, period)})
    if n_channels > 1 and spec.arch != "segment":
        raise ConfigError(
            f"a target of {n_channels} columns needs model.arch 'segment' (its decoder embeds "
            f"each column); received: {spec.arch!r}"
        )
    log_kernel(cell, spec)
    if spec.arch == "segment":
        return _segment_forecaster(
            cell,
            spec,
            lookback,
            horizon,
            n_features,
            n_calendar,
            period,
            calendar_names,
            n_channels if n_channels > 1 else 0,
        )
    return _pointwise_forecaster(cell, spec, lookback, horizon, n_features, n_calendar, period)


def build_for_windows(cell: str, spec: ModelSpec, windowed, period: int = 1) -> keras.Model:
    """`build_forecaster` for the windows a network trains on: their lookback, horizon,
    features, calendar and the columns of a multichannel target."""
    return build_forecaster(
        cell,
        spec,
        windowed.spec.lookback,
        windowed.spec.horizon,
        windowed.n_features,
        windowed.n_calendar,
        period,
        windowed.calendar_names,
        n_channels=len(windowed.channels),
    )


def _segment_forecaster(
    cell: str,
    spec: ModelSpec,
    lookback: int,
    horizon: int,
    n_features: int,
    n_calendar: int,
    period: int,
    calendar_names: list[str] | None,
    n_channels: int,
) -> keras.Model:
    if spec.segment > lookback:
        raise ConfigError(f"segment length {spec.segment} is longer than the lookback {lookback}")
    past = keras.Input((lookback, n_features), name="past")
    future = keras.Input((horizon, n_calendar), name="future")
    inputs = {"past": past, "future": future}
    if n_channels:
        inputs["channel"] = keras.Input((), dtype="int32", name="channel")
    past_norm, loc, scale = InstanceNorm(
        spec.center, spec.scale, spec.affine, name="instance_norm"
    )(past)
    correction = SegmentRecurrent(
        cell,
        spec.units,
        spec.segment,
        horizon,
        spec.gru_impl,
        spec.dropout,
        past_features=n_features
        - n_calendar,  # the target and past covariates, not the past calendar
        known_features=known_calendar(calendar_names, n_calendar),
        n_channels=n_channels,
        name="segment_rnn",
    )([past_norm, future] + ([inputs["channel"]] if n_channels else []))
    out = correction if spec.skip == "none" else _plus_base(spec, past_norm, correction, period)
    out = InstanceDenorm(name="instance_denorm")([out, loc, scale])
    return keras.Model(inputs, out, name=f"{cell}_forecaster")


def _pointwise_forecaster(
    cell: str,
    spec: ModelSpec,
    lookback: int,
    horizon: int,
    n_features: int,
    n_calendar: int,
    period: int,
) -> keras.Model:
    past = keras.Input((lookback, n_features), name="past")
    future = keras.Input((horizon, n_calendar), name="future")
    x = past
    for i in range(spec.layers):
        last = i == spec.layers - 1
        x = recurrent_layer(
            cell, spec.units, spec.gru_impl, f"{cell}_{i}", return_sequences=not last
        )(x)
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
        out = _plus_base(spec, past, out, period)
    return keras.Model({"past": past, "future": future}, out, name=f"{cell}_forecaster")
