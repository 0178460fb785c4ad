"""`forecast predict`: the forecast a user gets, its lineage, its MLflow run, and bad input."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest

import forecasting
from forecasting.cli import main
from forecasting.serving.batch import EXPERIMENT, predict_batch

HOUR = pd.Timedelta(hours=1)


def _predict(served_model, data, output, *extra) -> int:
    return main(
        [
            "predict",
            "--model",
            served_model.champion,
            "--data",
            str(data),
            "--output",
            str(output),
            "--tracking-uri",
            served_model.tracking_uri,
            *extra,
        ]
    )


def _client(served_model) -> mlflow.MlflowClient:
    return mlflow.MlflowClient(
        tracking_uri=served_model.tracking_uri, registry_uri=served_model.tracking_uri
    )


def _batch_run_writing(served_model, output: Path):
    """The one prediction run whose ``output`` param is ``output`` (each test writes its own path)."""
    client = _client(served_model)
    experiment = client.get_experiment_by_name(EXPERIMENT)
    runs = client.search_runs([experiment.experiment_id], f"params.output = '{output}'")
    assert len(runs) == 1, [r.info.run_id for r in runs]
    return runs[0]


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_predict_writes_next_steps_lineage_and_a_run(
    served_model, tmp_path, capsys, assert_nested_intervals
):
    output = tmp_path / "out" / "forecast.csv"
    assert _predict(served_model, served_model.data_csv, output) == 0
    assert "wrote 12 forecasts (2 series x 6 steps)" in capsys.readouterr().out

    forecast = pd.read_csv(output, parse_dates=["ds"])
    assert list(forecast.columns) == [
        "unique_id",
        "ds",
        "y_hat",
        "y_hat_lo_80",
        "y_hat_hi_80",
        "y_hat_lo_95",
        "y_hat_hi_95",
        "forecaster",
    ]
    assert_nested_intervals(forecast)
    last = served_model.frame["ds"].max()
    for uid in ("s0", "s1"):
        part = forecast[forecast["unique_id"] == uid]
        assert list(part["ds"]) == [last + k * HOUR for k in range(1, 7)]
        assert part["y_hat"].notna().all()
    assert sorted(p.name for p in output.parent.iterdir()) == [
        "forecast.csv",
        "forecast.csv.lineage.json",
    ]

    champion = _client(served_model).get_model_version_by_alias(served_model.name, "champion")
    lineage = json.loads((tmp_path / "out" / "forecast.csv.lineage.json").read_text())
    assert lineage["model_name"] == served_model.name
    assert lineage["model_version"] == str(champion.version)
    assert lineage["model_run_id"] == champion.run_id
    assert set(forecast["forecaster"]) == {
        champion.tags["model_family"]
    }  # no series left to the baseline
    assert lineage["series_by_fallback"] == 0 and lineage["fallback"] in ("naive", "seasonal_naive")
    assert lineage["model_alias"] == "champion"
    assert lineage["input_sha256"] == _sha256(served_model.data_csv)
    assert lineage["output_sha256"] == _sha256(output)
    assert lineage["as_of"] is None
    assert lineage["interval_levels"] == [80, 95]
    assert lineage["package_version"] == forecasting.__version__
    assert datetime.fromisoformat(lineage["created_at"]).tzinfo is not None

    run = _client(served_model).get_run(lineage["batch_run_id"])
    assert run.info.status == "FINISHED" and run.data.params["output"] == str(output)
    assert run.data.metrics["rows"] == 12
    assert run.data.params["model_uri"] == served_model.champion
    assert run.data.tags["lineage.model_version"] == str(champion.version)
    assert run.data.tags["lineage.input_sha256"] == lineage["input_sha256"]


def test_as_of_cuts_the_history_and_a_rerun_gives_the_same_bytes(served_model, tmp_path):
    as_of = "2024-01-20 05:00"
    first, second = tmp_path / "a.parquet", tmp_path / "b.parquet"
    assert _predict(served_model, served_model.data_csv, first, "--as-of", as_of) == 0
    assert _predict(served_model, served_model.data_csv, second, "--as-of", as_of) == 0
    assert first.read_bytes() == second.read_bytes()

    forecast = pd.read_parquet(first)
    assert forecast["ds"].min() == pd.Timestamp(as_of) + HOUR
    assert forecast["ds"].max() == pd.Timestamp(as_of) + 6 * HOUR
    assert json.loads(Path(f"{first}.lineage.json").read_text())["as_of"] == "2024-01-20T05:00:00"

    # The cut is the same as a file that ends at the as-of time.
    frame = served_model.frame
    cut = tmp_path / "cut.csv"
    frame[frame["ds"] <= pd.Timestamp(as_of)].to_csv(cut, index=False)
    assert _predict(served_model, cut, tmp_path / "c.parquet") == 0
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "c.parquet"), forecast)


def test_series_the_model_never_saw_are_forecast(served_model, synthetic_panel, tmp_path):
    data = tmp_path / "new.parquet"
    synthetic_panel(["store-7", "store-8", "store-9"], 40, start="2024-03-01").to_parquet(
        data, index=False
    )
    result = predict_batch(
        served_model.champion,
        data,
        tmp_path / "new-forecast.csv",
        tracking_uri=served_model.tracking_uri,
    )
    assert sorted(result.forecast["unique_id"].unique()) == ["store-7", "store-8", "store-9"]
    assert result.rows == 18 and result.forecast["y_hat"].notna().all()


def test_an_unseen_series_at_another_level_is_scaled_by_its_own_history(
    served_model, synthetic_panel, tmp_path
):
    """README: "a new series is scaled by its own history". Then a series the model never saw,
    and the same series times 1,000 plus 50,000 (far above the trained levels of 100 and 200),
    are the same input to the network, so their forecasts are that same affine map of each other
    and the large one stays at its own level."""
    small = synthetic_panel(["unseen"], 48, start="2024-03-01", seed=11)
    large = small.assign(unique_id="unseen-large", y=small["y"] * 1000.0 + 50_000.0)
    data, output = tmp_path / "unseen.csv", tmp_path / "forecast.csv"
    pd.concat([small, large]).to_csv(data, index=False)
    assert _predict(served_model, data, output) == 0

    forecast = pd.read_csv(output)
    y_small = forecast.loc[forecast["unique_id"] == "unseen", "y_hat"].to_numpy()
    y_large = forecast.loc[forecast["unique_id"] == "unseen-large", "y_hat"].to_numpy()
    assert len(y_small) == len(y_large) == 6
    np.testing.assert_allclose(y_large, y_small * 1000.0 + 50_000.0, rtol=1e-6)
    recent = large["y"].tail(24)
    margin = recent.max() - recent.min()
    assert (recent.min() - margin < y_large).all() and (y_large < recent.max() + margin).all(), (
        y_large
    )


def _bad_inputs(served_model, synthetic_panel, folder: Path) -> dict[str, tuple[list[str], str]]:
    frame = served_model.frame
    no_target = folder / "no-target.csv"
    frame.drop(columns=["y"]).to_csv(no_target, index=False)
    corrupt = folder / "corrupt.parquet"
    corrupt.write_bytes(b"PAR1 this is not parquet")
    daily = folder / "daily.csv"
    daily_frame = synthetic_panel(["s0"], 60)
    daily_frame["ds"] = pd.date_range("2024-01-01", periods=60, freq="D")
    daily_frame.to_csv(daily, index=False)
    aware = folder / "aware.csv"
    frame.assign(ds=frame["ds"].dt.strftime("%Y-%m-%dT%H:%M:%S+01:00")).to_csv(aware, index=False)
    data = str(served_model.data_csv)
    return {
        "time-zone aware": (
            ["--data", str(aware)],
            "time-zone aware timestamps (UTC+01:00) are not accepted",
        ),
        "missing column": (
            ["--data", str(no_target)],
            "missing target column 'y' that the model was trained with",
        ),
        "unknown model URI": (
            ["--data", data, "--model", f"models:/{served_model.name}@retired"],
            f"registered model '{served_model.name}' has no alias 'retired'",
        ),
        "unregistered model": (
            ["--data", data, "--model", "models:/nobody/3"],
            "no registered model named 'nobody'",
        ),
        "unreadable file": (["--data", str(corrupt)], "cannot read PARQUET file"),
        "missing file": (["--data", str(folder / "absent.csv")], "file not found"),
        "other frequency": (
            ["--data", str(daily)],
            "the data are at frequency 'D', the model was trained at 'h'",
        ),
        "history after as-of": (
            ["--data", data, "--as-of", "2023-06-01"],
            "no rows at or before --as-of",
        ),
    }


# A series with less history than the lookback is not bad input: the model's fallback baseline
# forecasts it (tests/experiments/test_left_out_series.py).
@pytest.mark.parametrize(
    "case",
    [
        "time-zone aware",
        "missing column",
        "unknown model URI",
        "unregistered model",
        "unreadable file",
        "missing file",
        "other frequency",
        "history after as-of",
    ],
)
def test_bad_input_is_one_line_exit_2_and_nothing_written(
    served_model, synthetic_panel, tmp_path, capsys, case
):
    args, expected = _bad_inputs(served_model, synthetic_panel, tmp_path)[case]
    output = tmp_path / "out" / "forecast.parquet"
    model = [] if "--model" in args else ["--model", served_model.champion]
    code = main(
        [
            "predict",
            *model,
            *args,
            "--output",
            str(output),
            "--tracking-uri",
            served_model.tracking_uri,
        ]
    )
    err = capsys.readouterr().err
    assert code == 2
    assert (
        err.strip().splitlines() == [err.strip()] and err.startswith("error: ") and expected in err
    )
    assert not (tmp_path / "out").exists()  # not even the folder

    run = _batch_run_writing(
        served_model, output
    )  # the attempt is on record, FAILED with its reason
    assert run.info.status == "FAILED"
    assert expected in run.data.tags["failure_reason"]


def test_bad_input_in_a_real_process(served_model, forecast_cli, tmp_path):
    no_target = tmp_path / "no-target.csv"
    served_model.frame.drop(columns=["y"]).to_csv(no_target, index=False)
    output = tmp_path / "forecast.csv"
    proc = forecast_cli(
        [
            "predict",
            "--model",
            served_model.champion,
            "--data",
            str(no_target),
            "--output",
            str(output),
        ],
        served_model.env(),
        tmp_path,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        f"error: {no_target}: missing target column 'y' that the model was trained with (found: unique_id, ds)"
    ]
    assert not output.exists() and not Path(f"{output}.lineage.json").exists()


def test_levels_select_the_interval_columns(served_model, tmp_path):
    output = tmp_path / "forecast.csv"
    assert _predict(served_model, served_model.data_csv, output, "--levels", "90") == 0
    forecast = pd.read_csv(output)
    assert list(forecast.columns) == [
        "unique_id",
        "ds",
        "y_hat",
        "y_hat_lo_90",
        "y_hat_hi_90",
        "forecaster",
    ]
    none = tmp_path / "none.csv"
    assert _predict(served_model, served_model.data_csv, none, "--levels", "") == 0
    assert list(pd.read_csv(none).columns) == ["unique_id", "ds", "y_hat", "forecaster"]


@pytest.mark.parametrize(
    ("levels", "expected"),
    [
        ("100", "--levels '100': level 100 is outside (0, 100)"),
        ("0,80", "--levels '0,80': level 0 is outside (0, 100)"),
        ("80.5", "--levels '80.5': level '80.5' is not an integer"),
        ("high", "--levels 'high': level 'high' is not an integer"),
    ],
)
def test_a_bad_level_is_one_line_exit_2_and_nothing_written(
    served_model, tmp_path, capsys, levels, expected
):
    output = tmp_path / "out" / "forecast.csv"
    assert _predict(served_model, served_model.data_csv, output, "--levels", levels) == 2
    err = capsys.readouterr().err
    assert err.strip().splitlines() == [f"error: {expected}: give integer percentages from 1 to 99"]
    assert not (tmp_path / "out").exists()


def test_an_output_path_that_cannot_be_written_is_one_line(served_model, tmp_path, capsys):
    blocked = tmp_path / "taken.csv"
    blocked.mkdir()  # a folder where the file should go
    assert _predict(served_model, served_model.data_csv, blocked) == 2
    err = capsys.readouterr().err
    assert (
        err.startswith("error: ")
        and "cannot write the forecast" in err
        and len(err.splitlines()) == 1
    )
    assert blocked.is_dir() and list(blocked.iterdir()) == []


def test_unsupported_output_type_is_rejected_before_anything_runs(served_model, tmp_path, capsys):
    assert _predict(served_model, served_model.data_csv, tmp_path / "forecast.xlsx") == 2
    assert "unsupported output type '.xlsx'" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


@pytest.fixture
def version_2_model(served_model, tmp_path) -> Path:
    """The champion's folder with its state rewritten as format version 2 (before intervals)."""
    from forecasting.packaging.folder import read_state
    from forecasting.tracking.model_ref import fetch_model, resolve_model

    mlflow.set_tracking_uri(served_model.tracking_uri)  # the suite resets it after the test
    mlflow.set_registry_uri(served_model.tracking_uri)
    ref = resolve_model(served_model.champion, served_model.tracking_uri)
    folder = fetch_model(ref, tmp_path / "model")
    state_file = folder / "artifacts" / "preprocessing.json"
    assert state_file.is_file()
    raw = json.loads(state_file.read_text())
    raw.pop("intervals")
    assert raw.pop("channels") == [], "a single-target model"
    state_file.write_text(json.dumps(raw | {"format_version": 2}))
    assert read_state(folder, "test").intervals is None
    return folder


def test_a_model_from_before_intervals_forecasts_without_them(
    served_model, version_2_model, tmp_path, capsys
):
    output = tmp_path / "forecast.csv"
    code = main(
        [
            "predict",
            "--model",
            str(version_2_model),
            "--data",
            str(served_model.data_csv),
            "--output",
            str(output),
            "--tracking-uri",
            served_model.tracking_uri,
        ]
    )
    assert code == 0
    assert list(pd.read_csv(output).columns) == ["unique_id", "ds", "y_hat", "forecaster"]

    asked = tmp_path / "asked" / "forecast.csv"
    code = main(
        [
            "predict",
            "--model",
            str(version_2_model),
            "--data",
            str(served_model.data_csv),
            "--output",
            str(asked),
            "--levels",
            "80",
            "--tracking-uri",
            served_model.tracking_uri,
        ]
    )
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "--levels (80,): the model (packaged-model format version 2) carries no" in err
    assert not (tmp_path / "asked").exists()


def test_a_history_written_with_semicolons_and_day_first_dates_reads_with_dayfirst(
    served_model, tmp_path, capsys
):
    """A ``;`` file is sniffed; ``05/01/2024`` fits both date orders when no day exceeds 12, so
    the user settles it with --dayfirst and gets the forecast of the same rows written in ISO."""
    frame = served_model.frame[served_model.frame["ds"] < "2024-01-13"]  # days 1..12 only
    iso = tmp_path / "iso.csv"
    frame.to_csv(iso, index=False)
    local = tmp_path / "local.csv"
    frame.assign(ds=frame["ds"].dt.strftime("%d/%m/%Y %H:%M")).to_csv(local, sep=";", index=False)
    capsys.readouterr()

    assert _predict(served_model, local, tmp_path / "refused.csv") == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--dayfirst" in err[0], err
    assert not (tmp_path / "refused.csv").exists()

    assert _predict(served_model, iso, tmp_path / "a.csv") == 0
    assert _predict(served_model, local, tmp_path / "b.csv", "--dayfirst") == 0
    a, b = pd.read_csv(tmp_path / "a.csv"), pd.read_csv(tmp_path / "b.csv")
    pd.testing.assert_frame_equal(a, b)
