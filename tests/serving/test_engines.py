"""The same forecasts from every way of scoring: `forecast predict` locally, on Spark, and
`mlflow models predict` on the registered model."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from forecasting.serving.batch import predict_batch

BANDS = ("y_hat_lo_80", "y_hat_hi_80", "y_hat_lo_95", "y_hat_hi_95")  # the default levels


def _readme_line(starting: str) -> str:
    """The one line of README.md that starts with ``starting``."""
    readme = Path(__file__).resolve().parents[2] / "README.md"
    lines = [line for line in readme.read_text().splitlines() if line.startswith(starting)]
    assert len(lines) == 1, lines
    return lines[0]


@pytest.mark.slow
def test_the_readme_mlflow_models_predict_line_gives_the_same_forecasts(served_model, tmp_path):
    """The README's line, as written, from a project folder (.venv, mlruns/, history.csv) and
    with no MLflow variable set: the line itself points MLflow at the project's store."""
    ours = predict_batch(
        served_model.champion,
        served_model.data_csv,
        tmp_path / "ours.csv",
        tracking_uri=served_model.tracking_uri,
    ).forecast
    line = _readme_line("MLFLOW_TRACKING_URI=sqlite:///mlruns/mlflow.db ")
    assert "models:/city-temps-forecaster@champion -i history.csv" in line
    project = tmp_path / "project"
    project.mkdir()
    (project / ".venv").symlink_to(Path(sys.executable).parents[1])
    (project / "mlruns").symlink_to(served_model.root / "mlruns")
    shutil.copy(served_model.data_csv, project / "history.csv")
    env = {k: v for k, v in served_model.env().items() if not k.startswith("MLFLOW_")}
    proc = subprocess.run(
        line.replace("city-temps-forecaster", served_model.name),
        shell=True,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        cwd=project,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    theirs = pd.DataFrame(json.loads(proc.stdout.strip().splitlines()[-1])["predictions"])
    theirs["ds"] = pd.to_datetime(theirs["ds"])
    theirs = theirs.sort_values(["unique_id", "ds"]).reset_index(drop=True)

    assert list(theirs.columns) == ["unique_id", "ds", "y_hat", *BANDS, "forecaster"]
    assert theirs["forecaster"].tolist() == ours["forecaster"].tolist()
    assert theirs["unique_id"].tolist() == ours["unique_id"].tolist()
    assert (theirs["ds"].to_numpy() == ours["ds"].to_numpy()).all()
    for column in ("y_hat", *BANDS):
        np.testing.assert_array_equal(theirs[column].to_numpy(), ours[column].to_numpy())


@pytest.mark.slow
def test_spark_engine_writes_the_same_file_as_the_local_engine(
    served_model, synthetic_panel, tmp_path, monkeypatch
):
    monkeypatch.delenv(
        "PYSPARK_PYTHON", raising=False
    )  # the engine must point Spark at this interpreter
    # Trained series and series the model never saw, cut at an as-of time: five Spark groups.
    frame = pd.concat(
        [served_model.frame, synthetic_panel(["new-a", "new-b", "new-c"], 60, start="2024-01-21")]
    )
    data = tmp_path / "history.parquet"
    frame.to_parquet(data, index=False)
    as_of = "2024-01-24 12:00"

    local = predict_batch(
        served_model.champion,
        data,
        tmp_path / "local.parquet",
        as_of=as_of,
        tracking_uri=served_model.tracking_uri,
    )
    spark = predict_batch(
        served_model.champion,
        data,
        tmp_path / "spark.parquet",
        as_of=as_of,
        engine="spark",
        tracking_uri=served_model.tracking_uri,
    )
    assert os.environ["PYSPARK_PYTHON"] == sys.executable
    assert sorted(spark.forecast["unique_id"].unique()) == ["new-a", "new-b", "new-c", "s0", "s1"]
    assert list(spark.forecast.columns) == ["unique_id", "ds", "y_hat", *BANDS, "forecaster"]
    assert spark.forecast[list(BANDS)].notna().all().all()
    assert (tmp_path / "spark.parquet").read_bytes() == (tmp_path / "local.parquet").read_bytes()
    assert (
        spark.lineage["engine"] == "spark"
        and spark.lineage["output_sha256"] == local.lineage["output_sha256"]
    )


@pytest.mark.slow
def test_spark_engine_gives_the_levels_asked_for(served_model, tmp_path):
    local = predict_batch(
        served_model.champion,
        served_model.data_csv,
        tmp_path / "local.csv",
        levels="50,99",
        tracking_uri=served_model.tracking_uri,
    )
    spark = predict_batch(
        served_model.champion,
        served_model.data_csv,
        tmp_path / "spark.csv",
        engine="spark",
        levels="50,99",
        tracking_uri=served_model.tracking_uri,
    )
    expected = ["unique_id", "ds", "y_hat", "y_hat_lo_50", "y_hat_hi_50"]
    expected += ["y_hat_lo_99", "y_hat_hi_99", "forecaster"]
    assert list(spark.forecast.columns) == expected
    assert (tmp_path / "spark.csv").read_bytes() == (tmp_path / "local.csv").read_bytes()
    assert spark.lineage["interval_levels"] == local.lineage["interval_levels"] == [50, 99]
