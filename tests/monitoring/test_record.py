"""The monitoring run of a model version: found by its tags, one step per as-of time, never twice.

A real SQLite store with real registered versions (their files are not needed to record)."""

from __future__ import annotations

import math
from pathlib import Path

import mlflow
import pandas as pd
import pytest

from forecasting.config import MonitoringConfig
from forecasting.monitoring.drift import judge
from forecasting.monitoring.expectation import Expectation
from forecasting.monitoring.past import PastForecast
from forecasting.monitoring.record import EXPERIMENT, VERSION_TAG, record, step_of
from forecasting.monitoring.scoring import ScoredForecast

SETTINGS = MonitoringConfig(last=3, min_forecasts=2)
EXPECTED = Expectation("gru", mase=1.0, baseline="naive", baseline_mase=1.1)


def _scored(version: str, hour: int, mase: float, complete: bool = True) -> ScoredForecast:
    as_of = pd.Timestamp("2024-05-01") + pd.Timedelta(hours=hour)
    forecast = PastForecast(Path(f"f{hour}.csv"), pd.DataFrame(), "m", version, as_of, 6, (), {})
    summary = {"mase": mase, "smape": 2.0, "mae": 0.5, "baseline_mase": 1.0, "points": 6.0}
    return ScoredForecast(forecast, complete, 6, 6, summary, pd.DataFrame())


@pytest.fixture
def registry(tmp_path):
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    from forecasting.tracking.store import use_store

    use_store(uri)
    c = mlflow.MlflowClient(tracking_uri=uri, registry_uri=uri)
    c.create_registered_model("m")
    for _ in range(2):
        c.create_model_version("m", source=tmp_path.as_uri())
    return uri, c


def _record(uri, version, scored):
    verdict = judge(scored, EXPECTED, SETTINGS, f"m v{version}")
    return record(uri, "m", version, scored, EXPECTED, verdict, SETTINGS)


def test_each_complete_forecast_is_one_step_once(registry):
    uri, c = registry
    # Hour 6's MASE is undefined (a history shorter than a season): still a step, once.
    scored = [_scored("1", 0, 0.9), _scored("1", 6, math.nan), _scored("1", 12, 1.1)]
    scored.append(_scored("1", 18, 5.0, complete=False))  # partial: not a step yet
    first = _record(uri, "1", scored)
    assert (first.new_steps, first.known_steps) == (3, 0)
    again = _record(uri, "1", scored)
    assert again.run_id == first.run_id and (again.new_steps, again.known_steps) == (0, 3)
    steps = [step_of(s.forecast.as_of) for s in scored[:3]]
    assert sorted(m.step for m in c.get_metric_history(first.run_id, "points")) == steps
    mase = c.get_metric_history(first.run_id, "mase")
    assert sorted((m.step, m.value) for m in mase) == [(steps[0], 0.9), (steps[2], 1.1)]
    assert all(m.timestamp == m.step * 1000 for m in mase)  # the as-of time, for the UI
    # The partial one completes: one more step, the others untouched.
    scored[3] = _scored("1", 18, 5.0)
    assert _record(uri, "1", scored).new_steps == 1
    assert len(c.get_metric_history(first.run_id, "points")) == 4
    tags = c.get_model_version("m", "1").tags
    assert tags["drift"] == "alarm" and tags["monitoring_run_id"] == first.run_id


def test_one_run_per_version_found_by_its_tags(registry):
    uri, c = registry
    one = _record(uri, "1", [_scored("1", 0, 1.0)])
    two = _record(uri, "2", [_scored("2", 0, 1.0)])
    assert one.run_id != two.run_id
    assert _record(uri, "1", [_scored("1", 6, 1.0)]).run_id == one.run_id
    experiment = c.get_experiment_by_name(EXPERIMENT)
    runs = c.search_runs([experiment.experiment_id])
    assert sorted(r.data.tags[VERSION_TAG] for r in runs) == ["1", "2"]
    assert all(r.info.status == "FINISHED" for r in runs)
    assert c.get_model_version("m", "2").tags["drift"] == "too_few"
