"""A champion that never gets worse.

A comparison proposes a candidate (the kept RNN if it beat the best baseline, else that baseline).
It becomes ``champion`` only if there is no champion for the same problem (series ids, frequency,
horizon: :func:`data_signature`) or if it *beats* the current one under the rule — lower primary
metric by more than the tolerance and significant in the paired test — on this comparison's own
backtest windows, where the current champion is scored exactly as it serves (its packaged pyfunc,
history cut at each window's origin). Otherwise the candidate becomes ``challenger``. Reading the
champion, scoring it and moving the alias happen under the registered model's lock.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd

from forecasting.config import Rule
from forecasting.data import SeriesData
from forecasting.errors import InputError
from forecasting.evaluation.backtest import Backtest, evaluate
from forecasting.evaluation.decision import Verdict, beats
from forecasting.packaging.history import prepare_history, user_frame
from forecasting.packaging.layout import Y_HAT
from forecasting.packaging.pyfunc import output_ids
from forecasting.tracking.registry import (
    CHAMPION,
    by_alias,
    client,
    make_challenger,
    make_champion,
    model_lock,
)
from forecasting.windowing import WindowedData

log = logging.getLogger(__name__)


def data_signature(ids: list[str], freq: str, horizon: int) -> str:
    """What makes two comparisons the same problem: the series ids, the frequency, the horizon."""
    key = json.dumps({"ids": sorted(map(str, ids)), "freq": freq, "horizon": int(horizon)})
    return hashlib.sha256(key.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Promotion:
    """What happened to a comparison's candidate version."""

    version: str
    promoted: bool
    previous: str | None  # the champion's version before, if any
    reason: str
    verdict: Verdict | None = None  # candidate vs the current champion, when they were compared
    champion_score: float = float("nan")


def score_version(
    model_uri: str, data: SeriesData, windowed: WindowedData, period: int, label: str = "champion"
) -> Backtest:
    """Backtest a registered packaged forecaster on ``windowed``'s test windows: for each origin,
    the history up to it goes through the model as ``forecast predict --as-of`` would send it.

    Raises:
        InputError: the model cannot forecast these data (columns, frequency, horizon).
    """
    import mlflow

    model = mlflow.pyfunc.load_model(model_uri).unwrap_python_model()
    state = model.state
    H = windowed.spec.horizon
    if state.horizon != H:
        raise InputError(f"{model_uri}: forecasts {state.horizon} steps, this comparison {H}")
    test = windowed.splits["test"]
    origin_times = np.array(
        [windowed.series[s].times[o] for s, o in zip(test.series, test.origin, strict=True)]
    )
    raw = user_frame(data)
    forecasts = np.full((len(test), H), np.nan)
    uids = np.array(windowed.ids)[test.series]
    unique = pd.unique(origin_times)
    log.info("scoring %s on %d windows (%d origins)", model_uri, len(test), len(unique))
    for n, t in enumerate(unique, 1):
        history = prepare_history(raw, state, f"{model_uri} backtest", as_of=pd.Timestamp(t))
        out = model.predict(None, history.frame)
        ids = output_ids(out, state.model_columns)
        by_id = {str(k): g[Y_HAT].to_numpy() for k, g in out.groupby(ids, sort=False)}
        for i in np.flatnonzero(origin_times == t):
            values = by_id.get(uids[i])
            if values is not None and len(values) == H:
                forecasts[i] = values
        if n % 50 == 0:
            log.info("scored %d of %d origins", n, len(unique))
    return evaluate(label, windowed, forecasts, period)


def settle(
    rule: Rule,
    uri: str,
    name: str,
    candidate_version: str,
    candidate: Backtest,
    data: SeriesData,
    windowed: WindowedData,
    period: int,
    signature: str,
) -> Promotion:
    """Give the candidate ``champion`` or ``challenger`` (see the module docstring)."""
    c = client(uri)
    m = rule.metric
    label = candidate.name.upper() if candidate.name in ("lstm", "gru") else candidate.name
    with model_lock(uri, name):
        current = by_alias(c, name, CHAMPION)
        if current is None:
            reason = "first champion of this registered model"
            make_champion(c, name, candidate_version, "comparison", reason)
            return Promotion(candidate_version, True, None, reason)
        previous = str(current.version)
        if (current.tags or {}).get("data_signature") != signature:
            reason = (
                f"the current champion (version {previous}) forecasts other series, frequency or "
                f"horizon, so it is not comparable"
            )
            make_champion(c, name, candidate_version, "comparison", reason)
            return Promotion(candidate_version, True, previous, reason)
        try:
            incumbent = score_version(
                f"models:/{name}/{previous}", data, windowed, period, CHAMPION
            )
        except InputError as exc:
            reason = f"the current champion (version {previous}) cannot forecast these data: {exc}"
            make_champion(c, name, candidate_version, "comparison", reason)
            return Promotion(candidate_version, True, previous, reason)
        champion_score = incumbent.summary[m]
        verdict = beats(
            rule,
            candidate.summary[m],
            champion_score,
            candidate.window_errors,
            incumbent.window_errors,
            windowed.spec.horizon,
        )
        evidence = verdict.describe(label, f"the champion (version {previous})", m.upper(), rule)
        if verdict.beats:
            reason = f"beats the current champion on the same windows: {evidence}"
            make_champion(c, name, candidate_version, "comparison", reason)
            return Promotion(candidate_version, True, previous, reason, verdict, champion_score)
        reason = (
            f"does not beat the current champion on the same windows: {evidence}; "
            f"promote it by hand with `forecast models promote {name} {candidate_version}`"
        )
        make_challenger(c, name, candidate_version, reason)
        return Promotion(candidate_version, False, previous, reason, verdict, champion_score)
