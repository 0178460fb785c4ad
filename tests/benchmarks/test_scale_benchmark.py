"""`forecast benchmark scale`: every step measured on each panel size, nothing written into the
checkout, and the windows held grow with the points, not with the windows' lookbacks."""

from __future__ import annotations

import json

import pytest

from forecasting.benchmarks.scale import STEPS, ScaleSettings, synthetic_frame
from forecasting.cli import main


def test_settings_must_be_positive():
    with pytest.raises(ValueError, match="--length must be a positive integer"):
        ScaleSettings(length=0)
    with pytest.raises(ValueError, match="--series must be a positive integer"):
        ScaleSettings(series=(10, 0))


def test_synthetic_frame_is_long_format_hourly():
    frame = synthetic_frame(3, 50)
    assert list(frame.columns) == ["unique_id", "ds", "y"] and len(frame) == 150
    assert frame.groupby("unique_id")["ds"].diff().dropna().eq("1h").all()


def test_a_bad_size_is_one_line_and_exit_2(capsys):
    assert main(["benchmark", "scale", "--series", "0", "--no-mlflow"]) == 2
    assert "--series must be a positive integer" in capsys.readouterr().err


def test_scale_benchmark_with_default_output_options(tmp_path, run_in_checkout):
    """Two panel sizes, each in a fresh process; the report is printed and logged to MLflow,
    and nothing is written into the checkout."""
    argv = ["benchmark", "scale", "--series", "2", "4", "--length", "300"]
    argv += ["--lookback", "24", "--horizon", "6", "--units", "4", "--batch-size", "64"]
    run = run_in_checkout(argv, tmp_path / "store")
    assert run.status == 0, run.printed
    assert run.changed == [], "forecast benchmark scale wrote into the checkout"

    report = json.loads(run.artifact("scale.json", tmp_path / "artifacts"))
    small, large = report["runs"]
    assert (small["series"], large["series"]) == (2, 4)
    for r in (small, large):
        peaks = [r["steps"][s]["peak_rss"] for s in STEPS]
        assert all(r["steps"][s]["seconds"] > 0 for s in STEPS)
        assert peaks == sorted(peaks)  # a peak so far never goes down
        held = r["held_bytes"]
        assert held["panel"] + held["index"] < held["materialised_train_past"]
    assert large["windows"]["train"] == 2 * small["windows"]["train"]
    assert large["held_bytes"]["panel"] == pytest.approx(2 * small["held_bytes"]["panel"], rel=1e-3)
    assert run.artifact("scale.md", tmp_path / "artifacts") in run.printed
