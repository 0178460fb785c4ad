"""Close the loop (issue 15), end to end on simulated time: hourly data arriving day by day for two
weeks, a prediction schedule and a retrain schedule (their job functions called with explicit
as-of times, no sleeping), the actuals scored by ``forecast evaluate`` as they arrive; halfway
through, the series change level.

Real parts only: a SQLite MLflow store and an APScheduler SQLite job store in ``tmp_path``,
the schedules added through the product's functions, the retrain run as the scheduler runs it
(a ``forecast retrain`` child process).

The stale champion is a ``pointwise`` network with ``skip: none``: it forecasts the level itself
from inputs standardised with its training data's statistics, so it cannot follow a level shift
(a ``segment`` network normalises each window, and a seasonal-naive forecast follows a shift
after one season: they would not go stale). A one-epoch network does not beat the seasonal
naive forecast, so the first comparison proposes the baseline; the network is promoted by hand,
as a user would (``forecast models promote``).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import mlflow
import pandas as pd
import pytest
import yaml

from forecasting.cli import main
from forecasting.exit_status import ExitStatus
from forecasting.monitoring.record import EXPERIMENT, NAME_TAG, VERSION_TAG, WINDOW, step_of
from forecasting.serving.schedule import (
    RunHistory,
    add_retrain_schedule,
    add_schedule,
    run_job,
    run_retrain_job,
)
from forecasting.serving.schedule.store import store_editor

MODEL = "closed-loop-forecaster"
SERIES, LOOKBACK, HORIZON = 3, 48, 24
PRE_DAYS, DAYS, SHIFT_DAY = 14, 14, 7  # history before the two weeks; the shift starts on day 7
SHIFT = 40.0  # the level shift: 40 noise sigmas (noise 1), 8 times the daily cycle's amplitude
K, MIN_FORECASTS = 5, 3  # monitoring.last and monitoring.min_forecasts, the defaults
YEARLY = "0 0 1 1 *"  # the schedules never fire by themselves: the test calls their job functions
START = pd.Timestamp("2024-01-01")


def _client(uri: str) -> mlflow.MlflowClient:
    return mlflow.MlflowClient(tracking_uri=uri, registry_uri=uri)


def _champion(uri: str) -> tuple[str, dict]:
    """The champion's version and tags."""
    v = _client(uri).get_model_version_by_alias(MODEL, "champion")
    return str(v.version), v.tags


def _utc(t: pd.Timestamp) -> datetime:
    """A slot as the scheduler passes it: an aware datetime in the schedule's zone (UTC)."""
    return t.tz_localize("UTC").to_pydatetime()


def _pipeline(path: Path, source: Path, uri: str) -> Path:
    tree = {
        "name": "closed-loop",
        "data": {"path": str(source)},
        "windowing": {"lookback": LOOKBACK, "horizon": HORIZON, "n_folds": 1},
        "model": {"arch": "pointwise", "skip": "none", "units": 8, "gru_impl": "custom"},
        "training": {
            "max_epochs": 1,
            "batch_size": 64,
            "seed": 3,
            "warm_start": "auto",
            "warm_epochs": 1,
        },
        "mlflow": {"experiment": "closed-loop", "model_name": MODEL, "tracking_uri": uri},
    }
    path.write_text(yaml.safe_dump(tree))
    return path


@pytest.mark.slow
def test_the_loop_raises_the_alarm_and_a_retrain_replaces_the_stale_champion(
    tmp_path, synthetic_panel, capsys
):
    """Day ``i`` (0..14) starts at ``as_ofs[i]``: the source file then holds the history up to
    it, the prediction schedule forecasts the next 24 hours from it, and ``evaluate`` scores the
    forecasts whose actuals have arrived (forecast ``j`` is complete from day ``j + 1`` on).

    The level shift starts right after ``as_ofs[7]``: forecast 7 is the first to cover it,
    complete on day 8. The README's rule: over the last K = 5 complete forecasts, the alarm is
    raised when their mean MASE is above the backtest MASE x 1.5; fewer than 3 complete ones are
    not judged. So days 0..7 exit 0, and since every forecast after the shift is far above the
    limit, the alarm rises at the latest once K complete forecasts cover it: by day 8 + K - 1 =
    12. One forecast far above the limit raises it at the first complete forecast covering the
    shift (README: "one far above it at the first"): a shift of 40 noise sigmas puts forecast 7's
    MASE near 10 times the limit, so the alarm is asserted on day 8, and on every day after.
    """
    uri = f"sqlite:///{tmp_path / 'mlruns' / 'mlflow.db'}"
    state = tmp_path / "state"
    source = tmp_path / "source.csv"
    forecasts = tmp_path / "forecasts"
    as_ofs = [START + pd.Timedelta(days=PRE_DAYS + i) for i in range(DAYS + 1)]
    shift_at = as_ofs[SHIFT_DAY]
    full = synthetic_panel(SERIES, (PRE_DAYS + DAYS) * 24 + 1, start=str(START), seed=21)
    full["y"] += SHIFT * (full["ds"] > shift_at)

    def arrive(as_of: pd.Timestamp) -> None:
        full[full["ds"] <= as_of].to_csv(source, index=False)

    # Before the two weeks: the first comparison on the history so far; its network is promoted.
    from forecasting.config import load_config
    from forecasting.experiments.compare import run_comparison

    arrive(as_ofs[0])
    pipeline = _pipeline(tmp_path / "pipeline.yaml", source, uri)
    first = run_comparison(load_config(pipeline))
    network = first.families[first.decision.winner].version
    if _champion(uri)[0] != network:
        assert main(["models", "promote", MODEL, network, "--tracking-uri", uri]) == 0
    stale, family = network, _champion(uri)[1]["model_family"]
    assert _champion(uri)[0] == stale and family in ("lstm", "gru")

    add_schedule(
        "hourly-forecast",
        YEARLY,
        f"models:/{MODEL}@champion",
        source,
        str(forecasts / "forecast-{as_of:%Y%m%d%H}.csv"),
        tracking_uri=uri,
        folder=state,
    )
    add_retrain_schedule("nightly-retrain", YEARLY, pipeline, tracking_uri=uri, folder=state)
    with store_editor(state) as editor:
        predict_job = dict(editor.get_job("hourly-forecast").kwargs)
        retrain_job = dict(editor.get_job("nightly-retrain").kwargs)

    # Two weeks, day by day.
    exits, outputs = [], []
    for day, as_of in enumerate(as_ofs):
        arrive(as_of)
        if day < DAYS:
            outcome = run_job(**predict_job, as_of=_utc(as_of))
            assert outcome.status == "ok", outcome.error
        capsys.readouterr()
        exits.append(
            main(
                [
                    "evaluate",
                    "--forecasts",
                    str(forecasts / "*.csv"),
                    "--actuals",
                    str(source),
                    "--model",
                    MODEL,
                    "--tracking-uri",
                    uri,
                ]
            )
        )
        outputs.append(capsys.readouterr().out)

    # Before the shift: nothing judged while fewer than 3 forecasts are complete, then no drift.
    assert exits[: SHIFT_DAY + 1] == [ExitStatus.OK] * (SHIFT_DAY + 1), outputs
    assert all("not judged" in outputs[d] for d in range(MIN_FORECASTS))
    assert all("no drift:" in outputs[d] for d in range(MIN_FORECASTS, SHIFT_DAY + 1))
    # After it: the alarm within K complete forecasts of the shift, and it stays.
    first_alarm = exits.index(ExitStatus.DRIFT_ALARM)
    assert SHIFT_DAY + 1 <= first_alarm <= SHIFT_DAY + K, (exits, outputs)
    assert first_alarm == SHIFT_DAY + 1  # far above the limit: at the first forecast covering it
    assert exits[first_alarm:] == [ExitStatus.DRIFT_ALARM] * (len(exits) - first_alarm)
    alarm = [ln for ln in outputs[-1].splitlines() if ln.startswith("drift alarm:")]
    assert len(alarm) == 1 and f"{MODEL} v{stale}" in alarm[0], outputs[-1]

    # Monitoring: one run for the stale version, one step per complete forecast's as-of time.
    c = _client(uri)
    (run,) = c.search_runs([c.get_experiment_by_name(EXPERIMENT).experiment_id])
    assert run.data.tags[NAME_TAG] == MODEL and run.data.tags[VERSION_TAG] == stale
    steps = [step_of(a) for a in as_ofs[:DAYS]]
    mase = {m.step: m.value for m in c.get_metric_history(run.info.run_id, "mase")}
    assert sorted(mase) == steps
    limit = float(run.data.tags["expected.mase"]) * 1.5
    assert max(mase[s] for s in steps[:SHIFT_DAY]) < limit  # every forecast before the shift
    assert min(mase[s] for s in steps[SHIFT_DAY:]) > limit  # and every one after it
    window = {m.step: m.value for m in c.get_metric_history(run.info.run_id, WINDOW)}
    assert window[steps[-1]] > limit
    tags = c.get_model_version(MODEL, stale).tags
    assert tags["drift"] == "alarm" and tags["monitoring_run_id"] == run.info.run_id
    assert tags["drift_reason"].startswith("drift alarm:")

    # The prediction schedule's history: one ok run per day, as of its day, each with the file
    # it wrote and its MLflow run.
    runs = RunHistory(state).runs("hourly-forecast")
    assert [r.status for r in runs] == ["ok"] * DAYS
    assert [r.scheduled_for for r in runs] == [_utc(a).isoformat() for a in as_ofs[:DAYS]]
    assert [Path(r.output).name for r in runs] == [
        f"forecast-{a:%Y%m%d%H}.csv" for a in as_ofs[:DAYS]
    ]
    assert all(r.mlflow_run_id for r in runs)

    # The nightly retrain, on the data with a week of the new level: its candidate beats the
    # stale champion on the comparison's backtest windows (all after the shift) and serves.
    slot = _utc(as_ofs[-1] + pd.Timedelta(hours=3))
    promoted = run_retrain_job(**retrain_job, as_of=slot)
    assert promoted.status == "ok", promoted.error
    assert promoted.scheduled_for == slot.isoformat()
    new = _champion(uri)[0]
    assert new != stale
    assert " is the new champion: beats the current champion on the same windows" in (
        promoted.output
    )
    assert f"than the champion (version {stale})'s" in promoted.output
    parent = c.get_run(promoted.mlflow_run_id).data.tags
    assert parent["retrain"] == "true" and parent["retrain.schedule"] == "nightly-retrain"
    assert parent["champion.promoted"] == "true"
    assert parent["champion.reason"].startswith("beats the current champion on the same windows")

    # Retrained again at once, on the same data: the candidate is no better, so it stays
    # challenger and says why.
    again = run_retrain_job(**retrain_job, as_of=slot + pd.Timedelta(hours=1))
    assert again.status == "ok", again.error
    assert _champion(uri)[0] == new
    assert " stays challenger: does not beat the current champion on the same windows" in (
        again.output
    )
    parent = c.get_run(again.mlflow_run_id).data.tags
    assert parent["champion.promoted"] == "false"
    challenger = c.get_model_version_by_alias(MODEL, "challenger")
    assert challenger.tags["not_promoted_reason"] == parent["champion.reason"]
    assert parent["champion.reason"].startswith("does not beat the current champion")
    # The retrain schedule's history: both runs, what each did and why.
    retrains = RunHistory(state).runs("nightly-retrain")
    assert [(r.status, r.scheduled_for) for r in retrains] == [
        ("ok", slot.isoformat()),
        ("ok", (slot + pd.Timedelta(hours=1)).isoformat()),
    ]
    assert [r.mlflow_run_id for r in retrains] == [promoted.mlflow_run_id, again.mlflow_run_id]
    assert retrains[0].output.startswith(f"version {new} (")
    assert "is the new champion: beats the current champion" in retrains[0].output
    assert "stays challenger: does not beat the current champion" in retrains[1].output
