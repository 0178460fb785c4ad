"""The fill bound in `forecast compare`, through the real command line in-process: a series with
more invented points than the bound is left out of training by the one usable-series policy
(listed with its reason in MLflow's left_out_series.csv, counted in data.n_left_out); when such
series are most of the panel, or any with --strict, or the file has a file-wide cause (a --freq
finer than the data, an ambiguous day/month order), the command refuses in one line with exit 2
before any run starts: no store, no run, nothing written."""

from __future__ import annotations

import contextlib
import io
import logging
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest

from forecasting.cli import main

HORIZON, LOOKBACK = 12, 48
LENGTH = 400
EXPERIMENT, MODEL_NAME = "fill-bound-e2e", "fill-bound-forecaster"


def listing(root: Path) -> list[tuple[str, int]]:
    return sorted((str(p.relative_to(root)), p.stat().st_size) for p in root.rglob("*"))


def panel_csv(path: Path, broken: list[str], whole: list[str]) -> Path:
    """Hourly series of 400 points; each ``broken`` one is hourly for 300 rows, then daily."""
    rng = np.random.default_rng(3)
    parts = []
    for uid in whole + broken:
        times = pd.date_range("2024-03-01", periods=LENGTH, freq="h")
        if uid in broken:
            times = times[:300].append(pd.date_range("2024-03-14", periods=100, freq="D"))
        hours = np.asarray(times.hour)
        y = 50 + 8 * np.sin(2 * np.pi * hours / 24) + rng.normal(0, 1, len(times))
        parts.append(
            pd.DataFrame({"unique_id": uid, "ds": times.strftime("%Y-%m-%d %H:%M"), "y": y})
        )
    pd.concat(parts).to_csv(path, index=False)
    return path


def compare_args(data: Path, uri: str, *extra: str) -> list[str]:
    return [
        "compare",
        "--data",
        str(data),
        "--horizon",
        str(HORIZON),
        "--lookback",
        str(LOOKBACK),
        "--units",
        "8",
        "--max-epochs",
        "1",
        "--batch-size",
        "64",
        "--experiment",
        EXPERIMENT,
        "--model-name",
        MODEL_NAME,
        "--set",
        f"mlflow.tracking_uri={uri}",
        *extra,
    ]


def run_cli(args: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main(args)
    return status, out.getvalue(), err.getvalue()


def test_a_series_over_the_bound_is_left_out_and_listed_in_mlflow(tmp_path, reset_mlflow, caplog):
    data = panel_csv(tmp_path / "history.csv", ["mixed"], ["alpha", "beta", "gamma"])
    uri = f"sqlite:///{tmp_path / 'store' / 'mlflow.db'}"
    caplog.set_level(logging.INFO)
    try:
        status, out, err = run_cli(compare_args(data, uri))
    finally:
        reset_mlflow()
    assert status == 0, err
    warning = [m for m in caplog.messages if "left out of training" in m]
    assert len(warning) == 1, err
    assert "1 of 4 series left out of training (1 over the fill bound): 'mixed'" in warning[0]
    assert "the spacing changes from h to D at row 1501" in warning[0]
    assert "Left out of training: 1 series (over the fill bound: mixed); " in out
    client = mlflow.MlflowClient(tracking_uri=uri, registry_uri=uri)
    experiment = client.get_experiment_by_name(EXPERIMENT)
    (parent,) = client.search_runs([experiment.experiment_id], "tags.role = 'comparison'")
    assert parent.data.params["data.n_left_out"] == "1"
    table = pd.read_csv(
        client.download_artifacts(parent.info.run_id, "left_out_series.csv", str(tmp_path))
    )
    assert table["series"].tolist() == ["mixed"]
    assert table["points"].tolist() == [2689]
    assert table["reason"].iloc[0].startswith("2289 of 2689 points would be invented (85%")
    assert (
        table["reason"]
        .iloc[0]
        .endswith("likely cause: mixed frequencies: the spacing changes from h to D at row 1501")
    )


@pytest.mark.parametrize(
    ("broken", "whole", "extra", "start"),
    [
        pytest.param(
            ["m1", "m2"],
            ["alpha"],
            [],
            "2 of 3 series cannot be used as given (2 over the fill bound), that is most of the "
            "panel: 'm1', 'm2'; 'm1': 2289 of 2689 points would be invented (85%",
            id="most-of-the-panel",
        ),
        pytest.param(
            ["mixed"],
            ["alpha", "beta", "gamma"],
            ["--strict"],
            "1 of 4 series cannot be used as given (1 over the fill bound), --strict refuses "
            "any: 'mixed'; 'mixed': 2289 of 2689 points would be invented (85%",
            id="strict",
        ),
    ],
)
def test_a_refusal_is_one_line_exit_2_and_writes_nothing(
    tmp_path, monkeypatch, reset_mlflow, broken, whole, extra, start
):
    data = panel_csv(tmp_path / "history.csv", broken, whole)
    uri = f"sqlite:///{tmp_path / 'store' / 'mlflow.db'}"
    monkeypatch.chdir(tmp_path)
    before = listing(tmp_path)
    try:
        status, out, err = run_cli(compare_args(data, uri, *extra))
    finally:
        reset_mlflow()
    assert status == 2, err
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(f"error: {data}: column 'y': {start}"), lines[0]
    assert lines[0].endswith("(fix the data, or set --freq, --max-fill or --max-gap)")
    assert listing(tmp_path) == before, "no store, no run, no file"


def test_a_freq_finer_than_the_data_refuses_the_comparison(tmp_path, monkeypatch, reset_mlflow):
    data = tmp_path / "weekly.csv"
    weeks = pd.date_range("2020-01-05", periods=300, freq="W")
    pd.DataFrame({"ds": weeks.strftime("%Y-%m-%d"), "y": np.arange(300.0)}).to_csv(
        data, index=False
    )
    uri = f"sqlite:///{tmp_path / 'store' / 'mlflow.db'}"
    monkeypatch.chdir(tmp_path)
    before = listing(tmp_path)
    try:
        status, out, err = run_cli(compare_args(data, uri, "--freq", "D"))
    finally:
        reset_mlflow()
    assert (status, out) == (2, "")
    assert err == (
        f"error: {data}: column 'ds': --freq D is finer than the data: most timestamps are 7D "
        "apart (first 2020-01-12 00:00:00 at row 2); pass --freq 7D or leave --freq out\n"
    )
    assert listing(tmp_path) == before
