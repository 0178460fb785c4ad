"""What ``forecast evaluate`` leaves in MLflow: one monitoring run per registered model version,
and the version's drift tags.

The run lives in the experiment ``monitoring`` and is found by its tags
(``monitoring.model_name``, ``monitoring.model_version``), never by "the latest run": every
evaluate of the version resumes it. Each complete forecast is one step, its as-of time in
seconds since 1970-01-01 UTC (the metric's timestamp is the as-of time too, so the UI can draw
realised error over time); a step already in the run's history is not logged again, so
evaluating the same forecast twice does not count it twice. Partial forecasts are scored and
reported, but become a step only once complete (a step's value never changes).
"""

from __future__ import annotations

import logging
import math
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from forecasting.config import MonitoringConfig
from forecasting.monitoring.drift import Verdict
from forecasting.monitoring.expectation import Expectation
from forecasting.monitoring.scoring import BASELINE, ScoredForecast

log = logging.getLogger(__name__)

EXPERIMENT = "monitoring"
NAME_TAG, VERSION_TAG = "monitoring.model_name", "monitoring.model_version"
STATUS_TAG, LINE_TAG = "drift", "drift.line"
# Tags on the model version, set on every evaluate.
VERSION_TAGS = ("drift", "drift_reason", "drift_checked_at", "monitoring_run_id")
CHART = "realised_error.png"
TABLE = "evaluations.csv"
WINDOW = "drift_window_mase"  # the rule's mean MASE over the last K complete forecasts


@dataclass(frozen=True)
class Logged:
    run_id: str
    new_steps: int  # complete forecasts logged by this evaluate
    known_steps: int  # complete forecasts the run already had


def step_of(as_of: pd.Timestamp) -> int:
    """A forecast's step: its as-of time (naive = UTC) in seconds since 1970-01-01."""
    stamp = as_of if as_of.tzinfo is not None else as_of.tz_localize("UTC")
    return int(stamp.timestamp())


def find_run(client, experiment_id: str, name: str, version: str) -> str | None:
    """The monitoring run of ``name`` version ``version`` (the oldest, should there be two)."""
    runs = client.search_runs(
        [experiment_id],
        filter_string=f"tags.`{VERSION_TAG}` = '{version}'",
        order_by=["attributes.start_time ASC"],
    )
    for run in runs:
        if run.data.tags.get(NAME_TAG) == name:
            return run.info.run_id
    return None


def _table(scored: list[ScoredForecast]) -> pd.DataFrame:
    parts = []
    for s in scored:
        part = s.per_series.reset_index()
        part.insert(0, "as_of", s.forecast.as_of)
        part.insert(1, "forecast", str(s.forecast.path))
        part.insert(2, "status", s.status)
        for key, value in s.summary.items():
            if key.startswith("coverage_"):
                part[f"file_{key}"] = value
        parts.append(part)
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def _window_means(complete: list[ScoredForecast], settings: MonitoringConfig) -> list[float]:
    """The rule's mean MASE as of each complete forecast (NaN while too few)."""
    out = []
    for i in range(len(complete)):
        window = complete[max(0, i + 1 - settings.last) : i + 1]
        values = [s.summary.get("mase", math.nan) for s in window]
        finite = [v for v in values if math.isfinite(v)]
        ok = len(window) >= settings.min_forecasts and finite
        out.append(float(np.mean(finite)) if ok else math.nan)
    return out


def record(
    uri: str,
    name: str,
    version: str,
    scored: list[ScoredForecast],
    expected: Expectation,
    verdict: Verdict,
    settings: MonitoringConfig,
) -> Logged:
    """Log this evaluate's complete forecasts to the version's monitoring run (resumed, or
    started), refresh its chart and table, and tag the version with the verdict."""
    import mlflow

    from forecasting.tracking import plots
    from forecasting.tracking.registry import client as registry_client
    from forecasting.tracking.runs import tracked_run
    from forecasting.tracking.store import ensure_experiment

    c = registry_client(uri)
    experiment_id = ensure_experiment(EXPERIMENT, uri)
    run_id = find_run(c, experiment_id, name, version)
    label = f"{name} v{version}"
    opened = (
        tracked_run(run_id=run_id)
        if run_id
        else tracked_run(
            experiment_id=experiment_id,
            run_name=f"monitor {label}",
            tags={NAME_TAG: name, VERSION_TAG: str(version)},
        )
    )
    complete = sorted(
        (s for s in scored if s.complete and s.points > 0), key=lambda s: s.forecast.as_of
    )
    with opened as run:
        run_id = run.info.run_id
        # "points" is logged at every step (MASE may be undefined): the steps already there.
        known = {m.step for m in c.get_metric_history(run_id, "points")}
        new, now_logged = 0, {}
        for s, window in zip(complete, _window_means(complete, settings), strict=True):
            step = step_of(s.forecast.as_of)
            if step in now_logged:
                log.warning(
                    "%s and %s: two forecasts of %s as of %s; only the first is a step of the "
                    "monitoring run (both count for the drift rule)",
                    now_logged[step],
                    s.forecast.path,
                    label,
                    s.forecast.as_of,
                )
            if step in known:
                continue
            now_logged[step] = s.forecast.path
            values = {k: v for k, v in s.summary.items() if math.isfinite(v)}
            if math.isfinite(window):
                values[WINDOW] = window
            mlflow.log_metrics(values, step=step, timestamp=step * 1000)
            known.add(step)
            new += 1
        limit = expected.mase * (1.0 + settings.margin)
        mlflow.set_tags(
            {
                STATUS_TAG: verdict.status,
                LINE_TAG: verdict.line[:5000],
                "expected.mase": f"{expected.mase:.6g}",
                "expected.band": f"{expected.low:.6g}..{expected.high:.6g}",
                "expected.baseline": expected.baseline,
                "comparison_run_id": expected.comparison_run_id,
            }
        )
        # The settings of the latest evaluate (tags, not params: they may change between runs).
        mlflow.set_tags({f"monitoring.{k}": str(v) for k, v in settings.model_dump().items()})
        history = {
            key: {m.step: m.value for m in c.get_metric_history(run_id, key)}
            for key in ("mase", BASELINE + "mase", WINDOW)
        }
        steps = sorted(history["mase"])
        with tempfile.TemporaryDirectory(prefix="forecast-evaluate-") as tmp:
            tmp = Path(tmp)
            plots.realised_error(
                tmp / CHART,
                pd.to_datetime(steps, unit="s"),
                np.array([history["mase"][s] for s in steps]),
                np.array([history[BASELINE + "mase"].get(s, np.nan) for s in steps]),
                expected.mase,
                (expected.low, expected.high),
                limit,
                baseline=expected.baseline,
                title=f"{label}: realised MASE of each complete forecast",
                window=np.array([history[WINDOW].get(s, np.nan) for s in steps]),
            )
            table = _table(scored)
            table.to_csv(tmp / TABLE, index=False)
            mlflow.log_artifacts(str(tmp))
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    for key, value in zip(
        VERSION_TAGS, (verdict.status, verdict.line[:5000], now, run_id), strict=True
    ):
        c.set_model_version_tag(name, str(version), key, value)
    log.info("%s: %d new complete forecasts logged to run %s", label, new, run_id)
    return Logged(run_id, new, len(known) - new)
