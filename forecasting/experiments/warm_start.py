"""Where a retrain starts each family: the weights of its own latest registered version, or scratch.

``training.warm_start`` (:class:`~forecasting.config.TrainBudget`) says which: ``latest`` starts
each family (LSTM, GRU) from the weights of the highest registered version tagged with that
``model_family``, ``cold`` from scratch, ``auto`` warm where it can and cold otherwise. A
version can start a retrain only when what it learned fits the network this retrain builds:
the same architecture (``arch``, GRU implementation, lookback, horizon, season) and feature
layout (covariates and calendar features, in order) in its :class:`PackagedState`, and a Keras
model whose weights have exactly the shapes of the network the builder makes from this
pipeline (units, layers, segment). Versions that are baselines (``model_family`` naive or
seasonal naive) have no weights and never start a family.

With ``latest``, a family that cannot start warm refuses the whole retrain with one line
(:class:`~forecasting.errors.ConfigError`, exit 2) before any run starts. The planner runs
after the data are read and before the comparison's MLflow run opens.
"""

from __future__ import annotations

import logging
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from forecasting.config import PipelineConfig
from forecasting.errors import ConfigError, InputError

if TYPE_CHECKING:
    import numpy as np

    from forecasting.windowing import WindowedData

log = logging.getLogger(__name__)

WARM, COLD = "warm", "cold"


@dataclass(frozen=True)
class StartingPoint:
    """How one family starts: from ``weights`` of registered ``version`` (warm) or from scratch.

    ``reason`` says why, in words a user reads in the logs, the MLflow run and the history.
    """

    family: str
    mode: str  # WARM or COLD
    reason: str
    version: str | None = None
    weights: tuple[np.ndarray, ...] | None = None

    @property
    def warm(self) -> bool:
        return self.mode == WARM

    def describe(self) -> str:
        return f"{self.family.upper()} {self.mode}: {self.reason}"


def cold(family: str, reason: str) -> StartingPoint:
    return StartingPoint(family, COLD, reason)


def layout_problem(state, family: str, cfg: PipelineConfig, windowed: WindowedData, period: int):
    """Why a registered version's packaged state does not fit this retrain's network, or None."""
    wanted = {
        "family": family,
        "arch": cfg.model.arch,
        "gru_impl": cfg.model.impl_tag(family),
        "lookback": windowed.spec.lookback,
        "horizon": windowed.spec.horizon,
        "period": period,
        "covariates": tuple(windowed.covariates),
        "calendar": tuple(windowed.calendar_names),
        "channels": tuple(windowed.channels),
    }
    for key, value in wanted.items():
        found = getattr(state, key)
        if found != value:
            return f"{key} is {_shown(found)} there, {_shown(value)} in this pipeline"
    return None


def _shown(value) -> str:
    if isinstance(value, tuple):
        return "[" + ", ".join(map(str, value)) + "]" if value else "none"
    return repr(value)


def weights_problem(registered, built) -> str | None:
    """Why the registered Keras model's weights cannot be loaded into ``built``, or None."""
    have = [tuple(w.shape) for w in registered.weights]
    want = [tuple(w.shape) for w in built.weights]
    if have == want:
        return None
    return (
        f"its network has {registered.count_params():,} parameters in {len(have)} arrays, this "
        f"pipeline's {built.count_params():,} in {len(want)} (model.units, layers or segment differ)"
    )


def latest_version(c, name: str, family: str) -> str | None:
    """The highest version of registered model ``name`` whose ``model_family`` is ``family``."""
    from mlflow.exceptions import MlflowException

    try:
        found = c.search_model_versions(f"name = '{name}'")
    except MlflowException:
        return None
    versions = [int(v.version) for v in found if (v.tags or {}).get("model_family") == family]
    return str(max(versions)) if versions else None


def _start_from(
    uri: str,
    name: str,
    version: str,
    family: str,
    cfg: PipelineConfig,
    windowed: WindowedData,
    period: int,
) -> StartingPoint:
    """Warm from ``version`` if it fits, else cold with the reason (one line)."""
    from forecasting.models.builder import build_for_windows
    from forecasting.packaging.folder import keras_path, load_keras, read_state
    from forecasting.tracking.model_ref import fetch_model, resolve_model

    source = f"models:/{name}/{version}"
    with tempfile.TemporaryDirectory(prefix="forecast-warm-start-") as tmp:
        folder = fetch_model(resolve_model(source, uri), Path(tmp))
        state = read_state(folder, source)
        problem = layout_problem(state, family, cfg, windowed, period)
        if problem is None:
            registered = load_keras(keras_path(folder, source), source)
            built = build_for_windows(family, cfg.model, windowed, period)
            problem = weights_problem(registered, built)
    if problem is not None:
        return cold(family, f"version {version} does not fit: {problem}")
    weights = tuple(registered.get_weights())
    return StartingPoint(family, WARM, f"from version {version}", version, weights)


def plan_starts(
    cfg: PipelineConfig,
    windowed: WindowedData,
    period: int,
    uri: str,
    families: tuple[str, ...],
) -> dict[str, StartingPoint]:
    """How each family of a retrain starts, by ``cfg.training.warm_start`` (see the module).

    Raises:
        ConfigError: ``warm_start: latest`` and a family cannot start warm (one line).
    """
    from forecasting.tracking.registry import client
    from forecasting.tracking.store import use_store

    mode = cfg.training.warm_start
    if mode == COLD:
        return {f: cold(f, "training.warm_start is cold") for f in families}
    uri = use_store(uri)  # the registered versions are downloaded from this store
    name, c = cfg.mlflow.model_name, client(uri)
    starts = {}
    for family in families:
        version = latest_version(c, name, family)
        if version is None:
            start = cold(family, f"registered model {name!r} has no {family.upper()} version yet")
        else:
            try:
                start = _start_from(uri, name, version, family, cfg, windowed, period)
            except InputError as exc:  # the version's files are gone or unreadable
                start = cold(family, f"version {version} cannot be read: {exc}")
        if not start.warm and mode == "latest":
            raise ConfigError(
                f"training.warm_start is latest but {family.upper()} cannot start warm: "
                f"{start.reason}; nothing was trained (use warm_start auto or cold to train anyway)"
            )
        log.info("%s", start.describe())
        starts[family] = start
    return starts
