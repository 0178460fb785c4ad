"""`forecast benchmark warm-start`: warm and cold retrains of one pipeline on the same data, from
the versions a previous training on older data registered. A tiny pipeline checks the plumbing
(the numbers of a real run are in docs/warm_start.md)."""

from __future__ import annotations

import json

import pytest
import yaml

from forecasting.cli import main


@pytest.mark.slow
def test_the_warm_start_benchmark_retrains_warm_and_cold_on_the_same_data(
    tmp_path, synthetic_panel, capsys
):
    data = tmp_path / "series.csv"
    synthetic_panel(["s0", "s1"], 480, seed=2).to_csv(data, index=False)
    pipeline = tmp_path / "tiny.yaml"
    pipeline.write_text(
        yaml.safe_dump(
            {
                "data": {"path": str(data)},
                "windowing": {"lookback": 24, "horizon": 6, "n_folds": 1},
                "model": {"units": 8},
                "training": {"max_epochs": 2, "batch_size": 64, "warm_epochs": 1},
            }
        )
    )
    out = tmp_path / "out"
    status = main(
        ["benchmark", "warm-start", "--pipeline", str(pipeline), "--out", str(out), "--no-mlflow"]
    )
    assert status == 0
    printed = capsys.readouterr().out
    assert "# Warm vs cold retraining" in printed
    rows = json.loads((out / "warm_start.json").read_text())["rows"]
    by = {(r["family"], r["start"]): r for r in rows}
    for family in ("lstm", "gru"):
        warm, cold = by[family, "warm"], by[family, "cold"]
        assert warm["from_version"] and not cold["from_version"]
        assert (warm["epochs"], cold["epochs"]) == (1, 2)  # warm_epochs, max_epochs
        # The same data and windows: the baselines score the same in both retrains.
    assert by["seasonal_naive", "warm"]["mase"] == by["seasonal_naive", "cold"]["mase"]
    assert (out / "warm_start.md").read_text().count("| LSTM |") == 2
