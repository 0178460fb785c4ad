"""Prediction intervals in a comparison: calibrated on the validation windows, scored on the
test windows (coverage, width, MSIS) for both families and both baselines, logged in the child
runs and the comparison table, and carried by the registered model."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecasting.evaluation.intervals import coverage
from forecasting.experiments.compare import prepare
from forecasting.packaging.folder import read_state

FAMILIES = ("lstm", "gru")
LEVELS = (80, 95)
INTERVAL_METRICS = [f"{m}_{p}" for p in LEVELS for m in ("coverage", "width", "msis")]


@pytest.fixture(scope="module")
def windowed(comparison):
    return prepare(comparison.config).windowed


@pytest.fixture(scope="module")
def children(comparison):
    client = comparison.client()
    result = comparison.result
    runs = client.search_runs([result.experiment_id], max_results=100)
    return {
        r.data.tags["model_family"]: r
        for r in runs
        if r.data.tags.get("mlflow.parentRunId") == result.parent_run_id
    }


@pytest.mark.parametrize("family", FAMILIES)
def test_coverage_is_measured_on_the_test_windows_and_logged(
    comparison, windowed, children, family
):
    bt = comparison.result.families[family].backtest
    test, val = windowed.splits["test"], windowed.splits["val"]
    y = windowed.actuals(test)
    assert bt.intervals.n_calibration == len(val)  # calibrated on the validation windows only
    metrics = children[family].data.metrics
    for level in LEVELS:
        lo, hi = bt.intervals.bands[level]
        assert lo.shape == hi.shape == y.shape == bt.forecasts.shape  # the test windows
        assert (lo <= bt.forecasts).all() and (bt.forecasts <= hi).all()
        assert metrics[f"backtest_coverage_{level}"] == pytest.approx(coverage(y, lo, hi))
        # Close to nominal on held-out windows (few windows here: a loose but real bound).
        assert abs(coverage(y, lo, hi) - level / 100) < 0.08, (level, coverage(y, lo, hi))
        assert metrics[f"backtest_width_{level}"] == pytest.approx(np.mean(hi - lo), rel=0.05)
        assert metrics[f"backtest_msis_{level}"] > 0
    lo80, hi80 = bt.intervals.bands[80]
    lo95, hi95 = bt.intervals.bands[95]
    assert (lo95 <= lo80).all() and (hi80 <= hi95).all()  # nested


def test_the_comparison_table_has_interval_metrics_for_models_and_baselines(comparison, tmp_path):
    client = comparison.client()
    path = client.download_artifacts(
        comparison.result.parent_run_id, "comparison.csv", str(tmp_path)
    )
    table = pd.read_csv(path, index_col="model")
    assert list(table.index) == ["lstm", "gru", "seasonal_naive", "naive"]
    assert set(INTERVAL_METRICS) <= set(table.columns)
    assert np.isfinite(table[INTERVAL_METRICS].to_numpy()).all()
    # The baseline's intervals are built the same way and are as honest as the networks'.
    assert abs(table.loc["seasonal_naive", "coverage_80"] - 0.8) < 0.08
    assert (table["width_95"] > table["width_80"]).all()


def test_the_registered_models_carry_the_calibrated_quantiles(comparison, tmp_path):
    import mlflow

    mlflow.set_tracking_uri(comparison.tracking_uri)  # reset after each test by the suite
    for family, fam in comparison.result.families.items():
        folder = mlflow.artifacts.download_artifacts(fam.model_uri, dst_path=str(tmp_path / family))
        state = read_state(folder, family)
        assert state.format_version == 4 and state.intervals.levels == LEVELS
        np.testing.assert_allclose(state.intervals.network, fam.backtest.intervals.quantiles)
        assert len(state.intervals.fallback) == comparison.horizon


def test_the_printed_summary_gives_each_forecasters_coverage(comparison):
    from forecasting.experiments.report import summary

    table = comparison.result.table
    printed = summary(comparison.result)
    for level in LEVELS:
        line = next(x for x in printed.splitlines() if x.startswith(f"{level}% intervals cover"))
        for name in table.index:
            assert f"{name} {table.loc[name, f'coverage_{level}']:.1%}" in line, (level, name)


def test_a_model_trained_without_levels_still_gives_any_level_asked_for(
    tmp_path, synthetic_panel, reset_mlflow
):
    """``intervals.levels: []``: no interval metrics and no interval columns by default, but the
    model carries its quantiles, so ``--levels`` still gets intervals without retraining."""
    from forecasting.config import build_config
    from forecasting.experiments.compare import run_comparison
    from forecasting.serving.batch import predict_batch

    data = tmp_path / "history.csv"
    synthetic_panel(["a", "b"], 400, seed=5).to_csv(data, index=False)
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    cfg = build_config(
        {
            "data": {"path": str(data)},
            "windowing": {"lookback": 24, "horizon": 6, "n_folds": 1},
            "model": {"units": 4},
            "training": {"max_epochs": 1, "batch_size": 64},
            "intervals": {"levels": []},
            "mlflow": {"experiment": "no-levels", "model_name": "no-levels", "tracking_uri": uri},
        },
        "test",
    )
    try:
        result = run_comparison(cfg)
    finally:
        reset_mlflow()
    assert not [c for c in result.table.columns if c.startswith(("coverage", "msis"))]
    plain = predict_batch("models:/no-levels@champion", data, tmp_path / "a.csv", tracking_uri=uri)
    assert list(plain.forecast.columns) == ["unique_id", "ds", "y_hat", "forecaster"]
    asked = predict_batch(
        "models:/no-levels@champion", data, tmp_path / "b.csv", levels="80", tracking_uri=uri
    )
    assert list(asked.forecast.columns) == [
        "unique_id",
        "ds",
        "y_hat",
        "y_hat_lo_80",
        "y_hat_hi_80",
        "forecaster",
    ]
    assert (asked.forecast["y_hat_lo_80"] < asked.forecast["y_hat"]).all()
