"""`forecast benchmark windowing`: ours and Keras cut the same windows; the report says how fast."""

from __future__ import annotations

import json

import numpy as np
import pytest

from forecasting.benchmarks.windowing import (
    WindowingSettings,
    synthetic_panel,
    windows_keras,
    windows_ours,
    windows_per_series,
)
from forecasting.cli import main


def test_ours_keras_and_a_naive_slice_cut_the_same_windows():
    panel = synthetic_panel(n_series=3, length=60)
    lookback, horizon = 12, 5
    width = lookback + horizon
    naive = np.stack(
        [s[i : i + width] for s in panel for i in range(60 - width + 1)]
    )  # [3 * 44, 17]
    ours = windows_ours(panel, lookback, horizon)
    assert ours.shape == (3 * windows_per_series(60, lookback, horizon), width) == (132, 17)
    assert ours.flags.c_contiguous
    np.testing.assert_array_equal(ours, naive)
    np.testing.assert_array_equal(windows_keras(panel, lookback, horizon, batch_size=16), naive)


def test_a_panel_shorter_than_one_window_is_a_config_error(capsys):
    assert (
        main(["benchmark", "windowing", "--length", "100", "--lookback", "90", "--horizon", "24"])
        == 2
    )
    assert "--length 100 is shorter than one window" in capsys.readouterr().err


def test_settings_must_be_positive():
    with pytest.raises(ValueError, match="--keras-series must be a positive integer"):
        WindowingSettings(keras_series=0)


def test_windowing_benchmark_with_default_output_options(tmp_path, run_in_checkout):
    """Three measuring processes (ours on all series, ours and Keras on the subset), each spawned
    fresh; the report is printed and logged to MLflow, and nothing is written into the checkout."""
    argv = [
        "benchmark",
        "windowing",
        "--series",
        "4",
        "--length",
        "400",
        "--keras-series",
        "2",
        "--repeat",
        "2",
    ]
    run = run_in_checkout(argv, tmp_path / "store")
    assert run.status == 0, run.printed
    assert run.changed == [], "forecast benchmark windowing wrote into the checkout"

    report = json.loads(run.artifact("windowing.json", tmp_path / "artifacts"))
    per = 400 - 168 - 24 + 1
    assert report["windows_per_series"] == per
    runs = report["runs"]
    assert runs["ours_full"]["shape"] == [4 * per, 192]
    assert runs["ours_subset"]["shape"] == runs["keras_subset"]["shape"] == [2 * per, 192]
    assert runs["ours_subset"]["sha256"] == runs["keras_subset"]["sha256"]
    assert all(r["contiguous"] and r["seconds"] > 0 for r in runs.values())
    assert runs["ours_full"]["best"] <= runs["ours_full"]["seconds"]
    assert report["keras_full_seconds"] == pytest.approx(2 * runs["keras_subset"]["seconds"])
    assert run.artifact("windowing.md", tmp_path / "artifacts") in run.printed
    assert "| keras, full size (extrapolated x2 from 2 series) | 4 |" in run.printed
