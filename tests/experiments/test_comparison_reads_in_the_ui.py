"""What a user sees of one comparison in the MLflow UI, read back from the store it wrote: an
experiment of the model-training kind, runs named after data, horizon and time, the decision
and the table as the parent run's description, and the backtest-MASE chart."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from forecasting.experiments.describe import MASE_CHART, NOTE_TAG
from forecasting.tracking.store import EXPERIMENT_KIND_TAG, MODEL_TRAINING


@pytest.fixture(scope="module")
def parent(comparison):
    return comparison.client().get_run(comparison.result.parent_run_id)


def test_experiment_is_of_the_model_training_kind(comparison):
    experiment = comparison.client().get_experiment(comparison.result.experiment_id)
    assert experiment.tags[EXPERIMENT_KIND_TAG] == MODEL_TRAINING


def test_runs_are_named_after_data_horizon_and_start_time(comparison, parent):
    assert re.fullmatch(r"sales\.csv · H=12 · \d{4}-\d\d-\d\d \d\d:\d\d", parent.info.run_name), (
        parent.info.run_name
    )
    client = comparison.client()
    for family in ("lstm", "gru"):
        run = client.get_run(comparison.result.families[family].run_id)
        assert run.info.run_name == family


def test_description_states_the_decision_then_holds_the_table(comparison, parent):
    result = comparison.result
    note = parent.data.tags[NOTE_TAG]
    first = note.splitlines()[0]
    assert first.startswith(f"**Decision: {result.decision.winner.upper()}**")
    champion_line = next(x for x in note.splitlines() if x.startswith("Champion"))
    assert f"models:/{comparison.model_name}@champion is now version" in champion_line
    assert f"version {result.promotion.version}" in champion_line
    assert result.decision.reason in note
    rows = {line.split("|")[1].strip(): line for line in note.splitlines() if line.startswith("| ")}
    assert {"lstm", "gru", "seasonal_naive", "naive"} <= set(rows)
    for name in ("lstm", "gru", "seasonal_naive"):
        assert f"{result.table.loc[name, 'mase']:.3f}" in rows[name]
    assert "sales.csv, 3 series" in note and "horizon 12" in note
    assert MASE_CHART in note


def test_mase_chart_is_logged_with_intervals_around_the_tables_mase(comparison, parent, tmp_path):
    from forecasting.experiments.compare import prepare
    from forecasting.tracking.plots import bootstrap_mase

    client = comparison.client()
    files = [a.path for a in client.list_artifacts(parent.info.run_id)]
    assert MASE_CHART in files
    assert sorted(files)[0] == MASE_CHART, "the chart a user wants first is listed first"
    png = Path(client.download_artifacts(parent.info.run_id, MASE_CHART, str(tmp_path)))
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000

    # The bars are the table's MASE; the intervals surround them.
    series = prepare(comparison.config).windowed.splits["test"].series
    result = comparison.result
    stats = bootstrap_mase(
        {f: result.families[f].backtest.window_errors for f in result.families}, series
    )
    for family in result.families:
        assert stats.loc[family, "mase"] == pytest.approx(result.table.loc[family, "mase"])
        assert stats.loc[family, "low"] < stats.loc[family, "mase"] < stats.loc[family, "high"]
    assert np.isfinite(stats.to_numpy()).all()


def test_summary_links_the_model_training_view_and_the_comparison(comparison):
    from forecasting.experiments.report import summary

    result = comparison.result
    text = summary(result)
    assert f"/#/experiments/{result.experiment_id}/runs?workflowType=machine_learning" in text
    assert (
        f"/#/experiments/{result.experiment_id}/runs/{result.parent_run_id}"
        "?workflowType=machine_learning" in text
    )
