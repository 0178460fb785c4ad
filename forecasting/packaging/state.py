"""The packaged forecaster's state: everything besides the Keras weights that a forecast needs.

It travels inside the packaged model as ``preprocessing.json``, with a format version:

- version 1: the column names, the covariates, frequency, fill policy, lookback, horizon,
  calendar feature names, the family and one scaler per training series. Files written before
  the format had a version field (and listed the configured covariates under ``columns``
  again) are read as version 1.
- version 2 adds ``arch`` (``segment`` or ``pointwise``; version 1 models are pointwise), the
  season ``period``, the ``fallback`` baseline that forecasts series too short for the
  lookback (version 1: none, such series are refused) and the ids ``left_out`` of training.
- version 3 adds ``intervals``: the split-conformal quantiles (:mod:`forecasting.models.conformal`)
  of the network and of the fallback baseline, per horizon step and for every level 1..99, the
  scale floor and the default levels of a forecast. Files of versions 1 and 2 load without it
  and forecast without interval columns (asking them for levels is an error naming the version).
  Version 3 also allows ``arch: baseline``: a naive or seasonal-naive forecaster packaged without
  weights (the comparison's candidate when no network beat the best baseline).
- version 4 adds ``channels``: the target columns of a multichannel target, in the order of
  the network's channel embedding (``columns.target`` then lists them too); empty for one
  target column, as every earlier version has.

A file of a version this reader does not know, or with a field it does not know, is refused
with one line naming the version found and the versions supported.

To add a setting (say ``arch``): add the field with a default below, so files that lack it
load with the default; bump :data:`FORMAT_VERSION` so that readers that predate the field
refuse the new files by their version rather than by the unknown field.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from forecasting.data import Columns, FillPolicy
from forecasting.errors import InputError

if TYPE_CHECKING:
    from sklearn.preprocessing import StandardScaler

    from forecasting.data import SeriesData
    from forecasting.windowing import WindowedData

FORMAT_VERSION = 4  # written by this code
SUPPORTED_VERSIONS = tuple(range(1, FORMAT_VERSION + 1))  # read by this code
VERSION_FIELD = "format_version"
ADDED_IN = {
    2: ("arch", "period", "fallback", "left_out"),
    3: ("intervals",),
    4: ("channels",),
}  # the fields each version added


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ScalerState(_Frozen):
    """A fitted per-series scaler: the mean and scale of the target, then of each covariate."""

    mean: tuple[float, ...]
    scale: tuple[float, ...]

    @classmethod
    def from_scaler(cls, scaler: StandardScaler) -> ScalerState:
        from forecasting.windowing.scaling import scaler_to_dict

        return cls(**scaler_to_dict(scaler))

    def to_scaler(self) -> StandardScaler:
        from forecasting.windowing.scaling import scaler_from_dict

        return scaler_from_dict({"mean": list(self.mean), "scale": list(self.scale)})


class ColumnNames(_Frozen):
    """The id, time and target column names of the training file (the input must use them);
    several target columns for a multichannel target."""

    id: str
    time: str
    target: str | tuple[str, ...]


N_LEVELS = 99  # quantiles are stored for every integer level 1..99


class IntervalState(_Frozen):
    """Split-conformal interval quantiles: ``y_hat ± q[h][p - 1] · s_w`` is the ``p`` % interval
    of horizon step ``h`` for a window whose lookback scale is ``s_w``.

    Args:
        levels: the levels (integer percentages) a forecast carries unless others are asked for.
        floor: the smallest lookback scale, in units of the series' training scaler.
        network: [H][99] quantiles of the network's normalised validation errors.
        fallback: [H][99] the same for the fallback baseline (``None``: no fallback).
    """

    levels: tuple[int, ...]
    floor: float = Field(gt=0)
    network: tuple[tuple[float, ...], ...]
    fallback: tuple[tuple[float, ...], ...] | None = None

    @classmethod
    def from_arrays(cls, levels, floor: float, network, fallback=None) -> IntervalState:
        """From [H, 99] arrays (numpy or nested lists)."""

        def rows(table):
            return None if table is None else tuple(tuple(map(float, r)) for r in table)

        return cls(
            levels=tuple(levels), floor=float(floor), network=rows(network), fallback=rows(fallback)
        )

    @model_validator(mode="after")
    def _shapes(self):
        from forecasting.config import level_problem

        problem = level_problem(list(self.levels))
        if problem:
            raise ValueError(f"levels: {problem}")
        for name in ("network", "fallback"):
            table = getattr(self, name)
            if table is None:
                continue
            if not table or any(len(row) != N_LEVELS for row in table):
                raise ValueError(f"{name}: expected {N_LEVELS} quantiles per horizon step")
            if any(not q >= 0 for row in table for q in row):
                raise ValueError(f"{name}: quantiles must be finite and non-negative")
        return self


def _column_names(columns: Columns) -> ColumnNames:
    return ColumnNames(id=columns.id, time=columns.time, target=columns.target)


class PackagedState(_Frozen):
    """Everything besides the Keras weights that a packaged forecaster needs.

    Args:
        format_version: the format this state was read as or is written in.
        family: ``lstm`` or ``gru``, or a baseline (``naive``, ``seasonal_naive``) packaged as the
            forecaster when no network beat it (then there are no weights and no scalers).
        gru_impl: the GRU implementation (``custom``, ``cell``, ``keras``; ``n/a`` for an LSTM).
        columns: the training file's id, time and target column names.
        covariates: the covariate columns the model reads, in order.
        freq: the series frequency (a pandas offset alias).
        fill: the gap policy the training data was regularised with.
        lookback: L, observed steps per forecast.
        horizon: H, steps forecast at once.
        calendar: names of the calendar features, in order.
        scalers: the training scaler of each series id.
        arch: the network's architecture (``segment`` or ``pointwise``; ``baseline`` for a
            packaged baseline).
        period: the season length m the baselines use.
        fallback: the baseline (``naive`` or ``seasonal_naive``) that forecasts a series with
            fewer than ``lookback`` points; ``None`` refuses such series.
        left_out: series ids that were too short to train on (the fallback forecast them).
        intervals: the conformal quantiles of the prediction intervals (``None``: no intervals).
        channels: the columns of a multichannel target, in the order the network's channel
            input indexes them (empty: one target column).
    """

    format_version: int = FORMAT_VERSION
    family: str
    gru_impl: str
    columns: ColumnNames
    covariates: tuple[str, ...]
    freq: str
    fill: FillPolicy
    lookback: int = Field(gt=0)
    horizon: int = Field(gt=0)
    calendar: tuple[str, ...]
    scalers: dict[str, ScalerState]
    arch: Literal["segment", "pointwise", "baseline"] = "pointwise"
    period: int = Field(1, gt=0)
    fallback: Literal["naive", "seasonal_naive"] | None = None
    left_out: tuple[str, ...] = ()
    intervals: IntervalState | None = None
    channels: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _interval_steps(self):
        tables = (self.intervals.network, self.intervals.fallback) if self.intervals else ()
        if any(t is not None and len(t) != self.horizon for t in tables):
            raise ValueError(
                f"intervals: expected one row of quantiles per step of horizon {self.horizon}"
            )
        return self

    @classmethod
    def from_training(
        cls,
        data: SeriesData,
        windowed: WindowedData,
        family: str,
        gru_impl: str,
        arch: str = "segment",
        period: int = 1,
        fallback: str | None = "seasonal_naive",
        left_out: tuple[str, ...] = (),
        intervals: IntervalState | None = None,
    ) -> PackagedState:
        """The state of a model trained on ``windowed`` (cut from ``data``)."""
        return cls(
            arch=arch,
            period=period,
            fallback=fallback,
            left_out=tuple(left_out),
            intervals=intervals,
            family=family,
            gru_impl=gru_impl,
            columns=_column_names(data.columns),
            covariates=tuple(data.covariates),
            freq=data.freq,
            fill=data.fill,
            lookback=windowed.spec.lookback,
            horizon=windowed.spec.horizon,
            calendar=tuple(windowed.calendar_names),
            scalers={s.uid: ScalerState.from_scaler(s.scaler) for s in windowed.series},
            channels=tuple(windowed.channels),
        )

    @classmethod
    def for_baseline(
        cls,
        data: SeriesData,
        baseline: str,
        lookback: int,
        horizon: int,
        period: int,
        intervals: IntervalState | None = None,
    ) -> PackagedState:
        """The state of ``baseline`` packaged as a forecaster of ``data``'s columns and frequency.
        ``lookback`` is the comparison's: its intervals (the baseline's own, as the fallback's)
        were calibrated with the scale of that many points; shorter series are still forecast."""
        return cls(
            intervals=intervals,
            arch="baseline",
            period=period,
            fallback=baseline,
            family=baseline,
            gru_impl="n/a",
            columns=_column_names(data.columns),
            covariates=tuple(data.covariates),
            freq=data.freq,
            fill=data.fill,
            lookback=lookback,
            horizon=horizon,
            calendar=(),
            scalers={},
            channels=data.columns.targets if data.columns.multichannel else (),
        )

    @property
    def n_channels(self) -> int:
        """How many target columns the network tells apart (0: one target column)."""
        return len(self.channels)

    @property
    def is_baseline(self) -> bool:
        """A packaged baseline: every series is forecast by ``fallback``, there is no network."""
        return self.arch == "baseline"

    @property
    def model_columns(self) -> Columns:
        """The columns the input must have, with the covariates fixed to the model's."""
        return Columns(self.columns.id, self.columns.time, self.columns.target, self.covariates)

    def fitted_scalers(self) -> dict[str, StandardScaler]:
        return {uid: s.to_scaler() for uid, s in self.scalers.items()}

    def to_json(self) -> str:
        """The state in its own format version (fields of later versions are not written)."""
        later = {name for v, names in ADDED_IN.items() if v > self.format_version for name in names}
        return self.model_dump_json(indent=1, exclude=later or None)

    def save(self, path: str | Path) -> Path:
        path = Path(path)
        path.write_text(self.to_json() + "\n")
        return path

    @classmethod
    def from_dict(cls, raw: Any, source: str) -> PackagedState:
        """Validate a decoded state.

        Raises:
            InputError: one line naming ``source``, the format version found and what is wrong.
        """
        if not isinstance(raw, dict):
            raise InputError(
                f"{source}: not a packaged-model state (expected a JSON object, found {type(raw).__name__})"
            )
        version = raw.get(VERSION_FIELD, 1)  # files from before the field existed are version 1
        if (
            isinstance(version, bool)
            or not isinstance(version, int)
            or version not in SUPPORTED_VERSIONS
        ):
            newer = (
                isinstance(version, int)
                and not isinstance(version, bool)
                and version > FORMAT_VERSION
            )
            hint = "; it was written by a newer forecasting: upgrade to load it" if newer else ""
            raise InputError(
                f"{source}: packaged-model format version {version!r}, this forecasting reads "
                f"format version {_listed(SUPPORTED_VERSIONS)}{hint}"
            )
        newer = sorted(
            name for v, names in ADDED_IN.items() if v > version for name in names if name in raw
        )
        if newer:
            raise InputError(
                f"{source}: packaged-model format version {version}: unknown field {newer[0]!r} for that "
                f"version (written by a newer forecasting? this one reads format version {_listed(SUPPORTED_VERSIONS)})"
            )
        fields = dict(raw, **{VERSION_FIELD: version})
        if isinstance(
            fields.get("columns"), dict
        ):  # version 1 also listed the configured covariates here
            fields["columns"] = {k: v for k, v in fields["columns"].items() if k != "covariates"}
        try:
            return cls.model_validate(fields)
        except ValidationError as exc:
            raise InputError(
                f"{source}: packaged-model format version {version}: {_first_error(exc)}"
            ) from None

    @classmethod
    def from_json(cls, text: str, source: str) -> PackagedState:
        try:
            raw = json.loads(text)
        except ValueError as exc:
            raise InputError(f"{source}: not a packaged-model state (not JSON: {exc})") from None
        return cls.from_dict(raw, source)

    @classmethod
    def load(cls, path: str | Path, source: str | None = None) -> PackagedState:
        """Read a saved state; ``source`` names it in errors (default: the path)."""
        path = Path(path)
        source = source or str(path)
        try:
            text = path.read_text()
        except OSError as exc:
            raise InputError(
                f"{source}: cannot read the packaged-model state: {exc.strerror or exc}"
            ) from None
        return cls.from_json(text, source)


def _listed(versions: tuple[int, ...]) -> str:
    return ", ".join(map(str, versions))


def _first_error(exc: ValidationError) -> str:
    """The first validation problem as ``field a.b: message`` (unknown fields named as such)."""
    error = exc.errors()[0]
    where = ".".join(str(part) for part in error["loc"])
    if error["type"] == "extra_forbidden":
        return (
            f"unknown field {where!r} (written by a newer forecasting? this one reads format version "
            f"{_listed(SUPPORTED_VERSIONS)})"
        )
    if error["type"] == "missing":
        return f"missing field {where!r}"
    found = repr(error.get("input"))
    return f"field {where!r}: {error['msg']} (found {found if len(found) <= 60 else found[:57] + '...'})"
