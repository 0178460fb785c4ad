"""The prediction intervals of a packaged forecaster's output: which levels, and their bounds.

The state carries split-conformal quantiles (:class:`~forecasting.packaging.state.IntervalState`)
per horizon step for every level 1..99, for the network and for the fallback baseline; a
forecast's interval is ``y_hat ± q_h(level) · s_w``, ``s_w`` the scale of the lookback it was
made from (:mod:`forecasting.models.conformal`). The levels are the caller's (the pyfunc's
``levels`` parameter, ``forecast predict --levels``) or else the state's defaults.
"""

from __future__ import annotations

import logging

import numpy as np

from forecasting.config import level_problem, parse_levels
from forecasting.errors import InputError
from forecasting.packaging.layout import interval_columns
from forecasting.packaging.state import PackagedState

log = logging.getLogger(__name__)

PARAM = "levels"  # the pyfunc parameter that selects the levels


def requested_levels(
    state: PackagedState, asked=None, source: str = PARAM, strict: bool = True
) -> tuple[int, ...]:
    """The levels a forecast carries: ``asked`` (a list or ``"80,95"``), else the state's defaults.

    A model whose state carries no intervals forecasts without them; levels asked of it are an
    error when ``strict``, else a warning (MLflow passes a signature's default parameters as if
    they were asked).

    Raises:
        InputError: one line naming ``source`` and the value, for a level that is not an integer
            in 1..99, or (``strict``) for levels asked of a model whose state carries no intervals.
    """
    if asked is None:
        if state.intervals is None:
            log.info(
                "the model (format version %d) carries no prediction intervals: "
                "forecasting without interval columns",
                state.format_version,
            )
            return ()
        return state.intervals.levels
    if isinstance(asked, str):
        levels = parse_levels(asked, source)
    else:
        values = asked.tolist() if isinstance(asked, np.ndarray) else list(asked)
        values = [int(v) if isinstance(v, np.integer) else v for v in values]
        problem = level_problem(values)
        if problem:
            raise InputError(f"{source} {asked!r}: {problem}")
        levels = tuple(sorted(set(values)))
    if levels and state.intervals is None:
        message = (
            f"{source} {asked!r}: the model (packaged-model format version "
            f"{state.format_version}) carries no prediction intervals; retrain it to get them"
        )
        if strict:
            raise InputError(message)
        log.warning("%s; forecasting without interval columns", message)
        return ()
    return levels


def bound_columns(
    y_hat: np.ndarray, scale: float, quantiles, levels: tuple[int, ...]
) -> dict[str, np.ndarray]:
    """``{y_hat_lo_<p>: ..., y_hat_hi_<p>: ...}`` for one series' [H] forecast; NaN without
    quantiles."""
    from forecasting.models.conformal import bounds

    out = {}
    for level in levels:
        lo_name, hi_name = interval_columns(level)
        if quantiles is None:
            out[lo_name] = out[hi_name] = np.full(len(y_hat), np.nan)
            continue
        lo, hi = bounds(y_hat[None, :], np.array([scale]), np.asarray(quantiles), level)
        out[lo_name], out[hi_name] = lo[0], hi[0]
    return out


def network_scales(past: np.ndarray, stds: np.ndarray, state: PackagedState) -> np.ndarray:
    """[S] lookback scales on the original scale of the network's [S, L, F] scaled inputs."""
    from forecasting.models.conformal import lookback_scales

    return lookback_scales(past, state.period, state.intervals.floor) * stds


def fallback_scale(y: np.ndarray, std: float, state: PackagedState) -> float:
    """The lookback scale of a series the fallback forecasts: its last ``lookback`` values."""
    from forecasting.models.conformal import lookback_scales

    last = np.asarray(y, dtype=np.float64)[-state.lookback :]
    return float(lookback_scales(last[None, :, None], state.period, state.intervals.floor * std)[0])
