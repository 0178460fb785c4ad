"""`forecast predict` compares frequencies by meaning: a model trained with `--freq W-MON`
predicts on its own training file (weekly, Mondays, which pandas reads as 7D), and refuses
weekly data on Tuesdays in one line."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecasting.cli import main

MODEL = "weekly-forecaster"


def _weekly_csv(path, first_day: str):
    rng = np.random.default_rng(5)
    parts = []
    for i, uid in enumerate(("a", "b")):
        times = pd.date_range(first_day, periods=80, freq="7D")
        values = 10.0 * (i + 1) + np.sin(np.arange(80) / 4.0) + rng.normal(0.0, 0.1, 80)
        parts.append(
            pd.DataFrame({"unique_id": uid, "ds": times.strftime("%Y-%m-%d"), "y": values})
        )
    pd.concat(parts).to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def weekly_model(tmp_path_factory, reset_mlflow):
    root = tmp_path_factory.mktemp("weekly")
    mondays = _weekly_csv(root / "mondays.csv", "2024-01-01")
    uri = f"sqlite:///{root / 'mlruns' / 'mlflow.db'}"
    try:
        status = main(
            [
                "compare",
                "--data",
                str(mondays),
                "--freq",
                "W-MON",
                "--horizon",
                "4",
                "--lookback",
                "16",
                "--max-epochs",
                "1",
                "--units",
                "8",
                "--experiment",
                "weekly",
                "--model-name",
                MODEL,
                "--set",
                f"mlflow.tracking_uri={uri}",
            ]
        )
    finally:
        reset_mlflow()
    assert status == 0
    return root, mondays, uri


def _predict(uri, data, output) -> int:
    return main(
        [
            "predict",
            "--model",
            f"models:/{MODEL}@champion",
            "--data",
            str(data),
            "--output",
            str(output),
            "--tracking-uri",
            uri,
        ]
    )


def test_a_w_mon_model_predicts_on_its_own_training_file(weekly_model, tmp_path):
    _, mondays, uri = weekly_model
    output = tmp_path / "forecast.csv"
    assert _predict(uri, mondays, output) == 0
    forecast = pd.read_csv(output, parse_dates=["ds"])
    last = pd.Timestamp("2024-01-01") + 79 * pd.Timedelta(days=7)
    assert sorted(set(forecast["ds"])) == [last + k * pd.Timedelta(days=7) for k in range(1, 5)]
    assert set(forecast["ds"].dt.day_name()) == {"Monday"}


def test_weekly_data_on_tuesdays_is_refused_in_one_line(weekly_model, tmp_path, capsys):
    _, _, uri = weekly_model
    tuesdays = _weekly_csv(tmp_path / "tuesdays.csv", "2024-01-02")
    output = tmp_path / "forecast.csv"
    assert _predict(uri, tuesdays, output) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1] == (
        f"error: {tuesdays}: column 'ds': the data are at frequency '7D' (on Tuesdays), "
        "the model was trained at 'W-MON' (Mondays)"
    )
    assert not output.exists()
