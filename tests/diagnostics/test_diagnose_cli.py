"""`forecast diagnose` on a real comparison's models: PNGs written and logged, bad input is one line.

One tiny LSTM-vs-GRU comparison (the real `run_comparison` path, one epoch, 8 units) runs
once into a SQLite store of its own; both families are registered, so the GRU and the LSTM
are both diagnosed, whichever of them the rule made champion.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import mlflow
import pandas as pd
import pytest

from forecasting.cli import main

NAME = "diagnose-test-forecaster"
LOOKBACK, HORIZON = 24, 6
PNG = b"\x89PNG\r\n\x1a\n"


@dataclass(frozen=True)
class Registered:
    tracking_uri: str
    data_csv: Path
    frame: pd.DataFrame
    versions: dict[str, tuple[str, str]]  # family -> (version, run id)

    def uri(self, family: str) -> str:
        return f"models:/{NAME}/{self.versions[family][0]}"

    def run_id(self, family: str) -> str:
        return self.versions[family][1]

    def client(self) -> mlflow.MlflowClient:
        return mlflow.MlflowClient(tracking_uri=self.tracking_uri, registry_uri=self.tracking_uri)


@pytest.fixture(scope="module")
def registered(tmp_path_factory, register_tiny_comparison, synthetic_panel) -> Registered:
    frame = synthetic_panel(
        ["a", "b"], 480, start="2024-02-01", seed=4, level=20.0, amplitude=4.0, noise=0.5
    )
    data_csv, uri = register_tiny_comparison(
        tmp_path_factory.mktemp("diagnose"),
        frame,
        "diagnose-tests",
        NAME,
        LOOKBACK,
        HORIZON,
        gru_impl="custom",
        seed=1,
    )
    client = mlflow.MlflowClient(tracking_uri=uri, registry_uri=uri)
    versions = {
        mv.tags["model_family"]: (str(mv.version), mv.run_id)
        for mv in client.search_model_versions(f"name='{NAME}'")
        if mv.tags["model_family"] in ("lstm", "gru")  # not a baseline registered as champion
    }
    assert set(versions) == {"lstm", "gru"}
    return Registered(uri, data_csv, frame, versions)


def _artifacts(reg: Registered, run_id: str) -> dict[str, int]:
    return {
        Path(f.path).name: f.file_size for f in reg.client().list_artifacts(run_id, "diagnostics")
    }


def _diagnose(reg: Registered, model: str, output: Path, *extra: str) -> int:
    return main(
        [
            "diagnose",
            "--model",
            model,
            "--data",
            str(reg.data_csv),
            "--output",
            str(output),
            "--tracking-uri",
            reg.tracking_uri,
            "--probe-epochs",
            "1",
            *extra,
        ]
    )


def test_gru_model_in_a_real_process_writes_pngs_logged_to_its_run(registered, tmp_path):
    output = tmp_path / "diag"
    env = dict(os.environ, MLFLOW_TRACKING_URI=registered.tracking_uri, TF_CPP_MIN_LOG_LEVEL="2")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "forecasting",
            "diagnose",
            "--model",
            registered.uri("gru"),
            "--data",
            str(registered.data_csv),
            "--output",
            str(output),
            "--probe-epochs",
            "1",
            "--series",
            "b",
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    for name in ("gradient_flow.png", "gates.png"):
        data = (output / name).read_bytes()
        assert data[:8] == PNG and len(data) > 10_000, name
    logged = _artifacts(registered, registered.run_id("gru"))  # the GRU's own training run
    assert {"gradient_flow.png", "gates.png", "gradient_flow.csv", "diagnostics.json"} <= set(
        logged
    )
    assert logged["gates.png"] == (output / "gates.png").stat().st_size
    assert f"logged to the model's run: {registered.run_id('gru')}" in proc.stdout

    norms = pd.read_csv(output / "gradient_flow.csv", index_col="distance")
    assert list(norms.columns) == [
        "gru_0 (this model)",
        "SimpleRNN probe",
        "GRU probe",
        "LSTM probe",
    ]
    assert len(norms) == LOOKBACK + 1 and (norms.iloc[0] > 0).all()
    summary = pd.read_json(output / "diagnostics.json", typ="series")
    assert summary["series"] == "b" and summary["family"] == "gru"
    assert 0.0 < summary["gates"]["gru_0"]["z_mean"] < 1.0


def test_lstm_model_gets_the_gradient_flow_and_is_told_gates_are_gru_only(
    registered, tmp_path, capsys
):
    output = tmp_path / "diag"
    run_id = registered.run_id("lstm")
    assert _diagnose(registered, f"runs:/{run_id}/forecaster", output) == 0
    out = capsys.readouterr().out
    assert "gates are GRU-only" in out
    assert (output / "gradient_flow.png").read_bytes()[:8] == PNG
    assert not (output / "gates.png").exists()
    logged = _artifacts(registered, run_id)
    assert "gradient_flow.png" in logged and "gates.png" not in logged


def test_a_model_without_a_run_in_the_store_gets_a_new_diagnostics_run(registered, tmp_path):
    from forecasting.diagnostics.report import diagnose

    version_files = registered.client().get_model_version_download_uri(
        NAME, registered.versions["gru"][0]
    )
    local = Path(
        mlflow.artifacts.download_artifacts(
            artifact_uri=version_files,
            dst_path=str(tmp_path / "model"),
            tracking_uri=registered.tracking_uri,
        )
    )
    other_store = f"sqlite:///{tmp_path / 'other' / 'mlflow.db'}"
    result = diagnose(
        str(local), registered.data_csv, tmp_path / "out", tracking_uri=other_store, probe_epochs=0
    )
    assert result.new_run and result.has_gates
    client = mlflow.MlflowClient(tracking_uri=other_store)
    run = client.get_run(result.run_id)
    assert client.get_experiment(run.info.experiment_id).name == "diagnostics"
    assert run.info.status == "FINISHED" and run.data.tags["model_family"] == "gru"
    names = {Path(f.path).name for f in client.list_artifacts(result.run_id, "diagnostics")}
    assert {"gradient_flow.png", "gates.png"} <= names


@pytest.mark.parametrize("kind", ["parquet", "bundled"])
def test_parquet_and_bundled_history_are_accepted(registered, tmp_path, capsys, kind):
    if kind == "parquet":
        data = tmp_path / "history.parquet"
        registered.frame.to_parquet(data, index=False)
        first = "a"
    else:
        data, first = (
            "bundled:city-temps",
            "san_francisco",
        )  # same columns and frequency as the test model
    output = tmp_path / "diag"
    code = main(
        [
            "diagnose",
            "--model",
            registered.uri("gru"),
            "--data",
            str(data),
            "--output",
            str(output),
            "--tracking-uri",
            registered.tracking_uri,
            "--probe-epochs",
            "0",
        ]
    )
    assert code == 0, capsys.readouterr().err
    assert f"on the latest window of '{first}'" in capsys.readouterr().out
    assert (output / "gates.png").read_bytes()[:8] == PNG


def _bad_cases(reg: Registered, folder: Path) -> dict[str, tuple[list[str], str]]:
    no_target = folder / "no-target.csv"
    reg.frame.drop(columns=["y"]).to_csv(no_target, index=False)
    short = folder / "short.csv"
    reg.frame.groupby("unique_id").head(10).to_csv(short, index=False)
    gru = reg.uri("gru")
    return {
        "unknown alias": ([f"models:/{NAME}@retired", str(reg.data_csv)], "has no alias 'retired'"),
        "unregistered model": (
            ["models:/nobody/1", str(reg.data_csv)],
            "no registered model named 'nobody'",
        ),
        "unknown run": (
            ["runs:/0123456789abcdef/forecaster", str(reg.data_csv)],
            "no run '0123456789abcdef'",
        ),
        "missing model folder": (
            [str(folder / "no-model"), str(reg.data_csv)],
            "no such model folder",
        ),
        "missing data file": ([gru, str(folder / "absent.csv")], "file not found"),
        "unsupported data file": (
            [gru, str(folder / "history.xlsx")],
            "unsupported file type '.xlsx'",
        ),
        "unknown bundled data": ([gru, "bundled:moon-temps"], "unknown bundled dataset"),
        "missing target column": ([gru, str(no_target)], "missing target column 'y'"),
        "too little history": ([gru, str(short)], "the model needs at least lookback = 24"),
    }


@pytest.mark.parametrize(
    "case",
    [
        "unknown alias",
        "unregistered model",
        "unknown run",
        "missing model folder",
        "missing data file",
        "unsupported data file",
        "unknown bundled data",
        "missing target column",
        "too little history",
    ],
)
def test_bad_input_is_one_line_exit_2_and_nothing_written(registered, tmp_path, capsys, case):
    (model, data), expected = _bad_cases(registered, tmp_path)[case]
    output = tmp_path / "out"
    code = main(
        [
            "diagnose",
            "--model",
            model,
            "--data",
            data,
            "--output",
            str(output),
            "--tracking-uri",
            registered.tracking_uri,
        ]
    )
    err = capsys.readouterr().err
    assert code == 2
    assert (
        err.strip().splitlines() == [err.strip()] and err.startswith("error: ") and expected in err
    ), err
    assert not output.exists()


def test_unknown_series_and_an_output_that_is_a_file_are_one_line(registered, tmp_path, capsys):
    assert _diagnose(registered, registered.uri("gru"), tmp_path / "out", "--series", "zzz") == 2
    assert "no series 'zzz' (series: a, b)" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
    taken = tmp_path / "taken"
    taken.write_text("not a folder")
    assert _diagnose(registered, registered.uri("gru"), taken, "--probe-epochs", "0") == 2
    err = capsys.readouterr().err
    assert (
        err.startswith("error: ")
        and "must be a folder" in err
        and len(err.strip().splitlines()) == 1
    )
