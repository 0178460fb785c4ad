"""End to end: what one comparison leaves in MLflow — runs, params, step metrics,
plots, the decision and the registry aliases — read back from the store it wrote."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from mlflow.entities import RunStatus

from forecasting.config import NOT_FROM_DATA
from forecasting.tracking.runs import flatten

FAMILIES = ("lstm", "gru")
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def store(comparison):
    """Runs of the shared comparison, read through a client on its store."""
    client = comparison.client()
    result = comparison.result
    parent = client.get_run(result.parent_run_id)
    runs = client.search_runs([result.experiment_id], max_results=100)
    children = {
        r.data.tags["model_family"]: r
        for r in runs
        if r.data.tags.get("mlflow.parentRunId") == result.parent_run_id
    }
    return client, parent, children, runs


def _download(client, run_id: str, path: str, dst: Path) -> Path:
    return Path(client.download_artifacts(run_id, path, str(dst)))


def _assert_png(path: Path) -> None:
    data = path.read_bytes()
    assert data[:8] == PNG_MAGIC, f"{path.name} is not a PNG"
    assert len(data) > 2_000, f"{path.name} is suspiciously small ({len(data)} bytes)"


def test_parent_and_two_nested_children_finished(store, comparison):
    client, parent, children, runs = store
    assert parent.info.status == RunStatus.to_string(RunStatus.FINISHED)
    assert sorted(children) == sorted(FAMILIES)
    assert len(runs) == 3, "one parent and exactly two children"
    for family, run in children.items():
        assert run.info.status == "FINISHED", family
        assert run.info.run_name == family
        assert run.info.run_id == comparison.result.families[family].run_id


def test_children_tags_and_every_config_value_as_param(store, comparison):
    _, _, children, _ = store
    from forecasting.experiments.compare import prepare

    # What was trained: the config with every `auto` setting chosen from the data.
    expected = flatten("", prepare(comparison.config).cfg.model_dump())
    assert "model.units" in expected and "training.max_epochs" in expected  # the flattening is real
    # training.warm_start's `auto` is a retrain's policy, not a setting chosen from the data:
    # it is logged as given, and each child's `warm_start` tag says how it started (cold here).
    assert "auto" not in {k: v for k, v in expected.items() if k not in NOT_FROM_DATA}.values()
    assert children["gru"].data.tags["gru_impl"] == "custom"
    assert children["lstm"].data.tags["gru_impl"] == "n/a"
    for family, run in children.items():
        assert run.data.tags["model_family"] == family
        params = run.data.params
        missing = sorted(set(expected) - set(params))
        assert not missing, f"{family} misses params {missing}"
        wrong = {k: (params[k], v) for k, v in expected.items() if params[k] != v}
        assert not wrong, f"{family} logged different values: {wrong}"
        assert params["model_family"] == family
        assert params["windowing.lookback"] == "48" and params["training.max_epochs"] == "2"
        assert run.data.tags["warm_start"] == "cold"
        assert run.data.tags["warm_start.reason"] == "a comparison trains from scratch"


@pytest.mark.parametrize("family", FAMILIES)
def test_one_train_and_val_loss_per_epoch(store, comparison, family):
    client, _, children, _ = store
    run = children[family]
    training = comparison.result.families[family].training
    epochs = int(run.data.metrics["epochs_trained"])
    assert epochs == len(training.loss) >= 1
    curves = (
        ("train_loss", training.loss, 1),
        ("val_loss", [training.initial_val_loss, *training.val_loss], 0),
    )
    for key, values, first_step in curves:  # validation starts at step 0: the untrained model
        history = sorted(client.get_metric_history(run.info.run_id, key), key=lambda m: m.step)
        assert [m.step for m in history] == list(range(first_step, epochs + 1)), key
        np.testing.assert_allclose([m.value for m in history], values, rtol=1e-6, err_msg=key)


@pytest.mark.parametrize("family", FAMILIES)
def test_backtest_and_cost_metrics(store, comparison, family):
    _, _, children, _ = store
    metrics = children[family].data.metrics
    fam = comparison.result.families[family]
    for name in ("mae", "rmse", "smape", "mase"):
        assert metrics[f"backtest_{name}"] == pytest.approx(fam.backtest.summary[name]), name
        assert np.isfinite(metrics[f"backtest_{name}"]) and metrics[f"backtest_{name}"] > 0
    assert metrics["n_params"] == fam.n_params > 0
    assert metrics["train_seconds"] > 0
    assert metrics["inference_ms_per_window"] > 0
    assert any(k.startswith("fold0_") for k in metrics) and any(
        k.startswith("fold1_") for k in metrics
    )


@pytest.mark.parametrize("family", FAMILIES)
def test_child_artifacts(store, comparison, family, tmp_path):
    client, _, children, _ = store
    run_id = children[family].info.run_id
    names = {a.path for a in client.list_artifacts(run_id)}
    assert {"forecasts.png", "learning_curve.png", "per_series_metrics.csv"} <= names
    for png in ("forecasts.png", "learning_curve.png"):
        _assert_png(_download(client, run_id, png, tmp_path))
    table = pd.read_csv(
        _download(client, run_id, "per_series_metrics.csv", tmp_path), index_col="series"
    )
    assert sorted(table.index) == sorted(comparison.lengths)
    assert list(table.columns) == ["mae", "rmse", "smape", "mase"]
    assert np.isfinite(table.to_numpy()).all()
    # The logged summary is the mean over series (M4 style).
    assert table["mase"].mean() == pytest.approx(children[family].data.metrics["backtest_mase"])


def test_parent_decision_tags(store, comparison):
    _, parent, children, _ = store
    d = comparison.result.decision
    tags = parent.data.tags
    assert tags["decision.winner"] == d.winner in FAMILIES
    assert tags["decision.best_baseline"] == d.baseline
    assert tags["decision.beats_best_baseline"] == str(d.beats_baseline).lower()
    assert tags["decision.candidate"] == (d.winner if d.beats_baseline else d.baseline)
    reason = tags["decision.reason"]
    assert d.baseline.replace("_", " ") in reason
    # The numbers in the reason are those the children logged.
    for family in FAMILIES:
        assert f"{children[family].data.metrics['backtest_mase']:.3f}" in reason, family
    assert f"p={d.p_value:.3g}" in reason
    assert parent.data.metrics["decision_p_value"] == pytest.approx(d.p_value)


def test_parent_artifacts(store, comparison, tmp_path):
    client, parent, children, _ = store
    run_id = parent.info.run_id
    names = {a.path for a in client.list_artifacts(run_id)}
    assert {"comparison.csv", "comparison.md", "comparison.png", "decision.json"} <= names
    _assert_png(_download(client, run_id, "comparison.png", tmp_path))

    table = pd.read_csv(_download(client, run_id, "comparison.csv", tmp_path), index_col="model")
    assert list(table.index) == ["lstm", "gru", "seasonal_naive", "naive"]
    for family in FAMILIES:
        assert table.loc[family, "mase"] == pytest.approx(
            children[family].data.metrics["backtest_mase"]
        )
    assert table.loc["seasonal_naive", "skill_vs_snaive"] == pytest.approx(0.0)

    decision = json.loads(_download(client, run_id, "decision.json", tmp_path).read_text())
    assert decision["winner"] == parent.data.tags["decision.winner"]
    assert decision["lstm_score"] == pytest.approx(table.loc["lstm", "mase"])
    assert decision["gru_score"] == pytest.approx(table.loc["gru", "mase"])
    assert decision["baseline_score"] == pytest.approx(table.loc[decision["baseline"], "mase"])
    assert decision["baseline_score"] == pytest.approx(
        table.loc[["seasonal_naive", "naive"], "mase"].min()
    )

    markdown = _download(client, run_id, "comparison.md", tmp_path).read_text()
    assert "| model |" in markdown and "| seasonal_naive |" in markdown
    assert parent.data.tags["decision.reason"] in markdown

    # The numbers behind backtest_mase.png, which monitoring reads as a version's expectation:
    # the table's MASE of each forecaster inside its bootstrap band.
    bands = pd.read_csv(
        _download(client, run_id, "backtest_mase_bands.csv", tmp_path), index_col="model"
    )
    assert list(bands.index) == list(table.index)
    assert bands["mase"].to_numpy() == pytest.approx(table["mase"].to_numpy())
    assert (bands["low"] <= bands["mase"]).all() and (bands["mase"] <= bands["high"]).all()


def test_registry_first_comparison_makes_its_candidate_champion(store, comparison):
    """Both families are versions with their family tag; the candidate (the kept RNN if it beat
    the best baseline, else that baseline as a packaged forecaster) is the first champion."""
    client, parent, children, _ = store
    d = comparison.result.decision
    name = comparison.model_name
    versions = {str(v.version): v for v in client.search_model_versions(f"name='{name}'")}
    families = {v.tags["model_family"]: v for v in versions.values()}
    for family in FAMILIES:
        assert families[family].run_id == children[family].info.run_id
        assert str(families[family].version) == comparison.result.families[family].version
        assert families[family].tags["comparison_run_id"] == parent.info.run_id
    champion = client.get_model_version_by_alias(name, "champion")
    assert champion.tags["model_family"] == d.candidate
    assert str(champion.version) == comparison.result.candidate_version
    assert champion.tags["promoted_how"] == "comparison"
    assert parent.data.tags["champion.promoted"] == "true"
    assert parent.data.tags["champion.version"] == str(champion.version)
    # Two families, plus the baseline when it is the candidate; no challenger after a first run.
    assert len(versions) == 2 + (not d.beats_baseline)
    with pytest.raises(Exception, match="alias"):
        client.get_model_version_by_alias(name, "challenger")


def test_no_run_left_running(store):
    _, _, _, runs = store
    assert [r.info.status for r in runs if r.info.status != "FINISHED"] == []


def test_a_network_that_kept_its_starting_weights_is_labelled_as_its_naive_base(comparison):
    """Training that never beat the untrained network keeps it, and the untrained network *is*
    its naive base (zero-initialised head): the table says which forecast it really is."""
    import dataclasses

    from forecasting.config import ModelSpec
    from forecasting.experiments.compare import comparison_table, format_table
    from forecasting.models.builder import untrained_forecast

    families = dict(comparison.result.families)
    families["gru"] = dataclasses.replace(families["gru"], starting_weights="seasonal_naive")
    baselines = {
        name: dataclasses.replace(families["lstm"].backtest, summary=dict(row))
        for name, row in comparison.result.table.loc[
            ["seasonal_naive", "naive"], ["mase"]
        ].iterrows()
    }
    table = comparison_table(families, baselines)
    assert table.loc["gru", "note"] == "= seasonal naive (starting weights)"
    assert table.loc["lstm", "note"] == ""
    assert "| = seasonal naive (starting weights) |" in format_table(table)

    assert (
        untrained_forecast(ModelSpec(skip="seasonal"), lookback=48, period=24) == "seasonal_naive"
    )
    assert untrained_forecast(ModelSpec(skip="seasonal"), lookback=12, period=24) == "naive"
    assert untrained_forecast(ModelSpec(skip="last"), lookback=48, period=24) == "naive"
    assert untrained_forecast(ModelSpec(skip="none", center="last"), 48, 24) == "naive"
