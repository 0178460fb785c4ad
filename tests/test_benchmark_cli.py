"""`forecast benchmark --quick`: JSON, printed table and MLflow run (no timing assertions)."""

from __future__ import annotations

import contextlib
import io
import json

import pytest

from forecasting.cli import main

EXPECTED_IMPLEMENTATIONS = {"ours_cell", "ours_gru", "keras_gru", "keras_lstm"}
ROW_FIELDS = {
    "shape",
    "implementation",
    "label",
    "params",
    "forward",
    "train_step",
    "forward_windows_per_s",
    "train_windows_per_s",
    "forward_gflops",
    "train_gflops",
    "forward_ratio_vs_keras",
    "train_ratio_vs_keras",
    "max_abs_diff_output",
    "max_abs_diff_grad",
}


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    """One in-process `forecast benchmark --quick --output tmp` against a fresh MLflow store."""
    folder = tmp_path_factory.mktemp("benchmark")
    uri = f"sqlite:///{folder / 'mlflow.db'}"
    printed = io.StringIO()
    with pytest.MonkeyPatch.context() as mp, contextlib.redirect_stdout(printed):
        mp.setenv("MLFLOW_TRACKING_URI", uri)
        mp.chdir(folder)
        status = main(["benchmark", "--quick", "--output", "tmp"])
    return status, folder / "tmp", uri, printed.getvalue()


def test_quick_benchmark_writes_json_with_every_implementation(quick_run):
    status, output, _, _ = quick_run
    assert status == 0
    report = json.loads((output / "gru_benchmark.json").read_text())

    env = report["environment"]
    for key in ("device", "keras_gru_kernel", "tensorflow", "keras", "cpu"):
        assert env[key]
    if not env["gpus"]:
        assert env["device"] == "CPU"
        assert "cuDNN was not available" in env["keras_gru_kernel"]

    rows = report["rows"]
    assert {row["implementation"] for row in rows} >= EXPECTED_IMPLEMENTATIONS
    for row in rows:
        assert ROW_FIELDS <= set(row)
        assert row["params"] > 0
        for timing in ("forward", "train_step"):
            t = row[timing]
            assert 0 < t["min_ms"] <= t["median_ms"] <= t["max_ms"]
        assert row["forward_gflops"] > 0 and row["train_gflops"] > 0
    by_key = {row["implementation"]: row for row in rows}
    for ours in ("ours_cell", "ours_gru"):
        assert by_key[ours]["max_abs_diff_output"] <= 1e-5
        assert by_key[ours]["max_abs_diff_grad"] <= 1e-5
    assert by_key["keras_gru"]["train_ratio_vs_keras"] == pytest.approx(1.0)
    # Same GRU, same parameter count; the LSTM has 4/3 of the GRU's gate weights.
    assert by_key["ours_gru"]["params"] == by_key["keras_gru"]["params"]


def test_quick_benchmark_prints_the_markdown_table(quick_run):
    _, output, _, printed = quick_run
    assert "| shape (B, T, D, H) | implementation |" in printed
    for label in ("forecasting.layers.GRU", "RNN(GRUCell)", "keras.layers.GRU", "LSTM"):
        assert label in printed
    assert (output / "gru_benchmark.md").read_text() in printed
    if "Device: CPU" in printed:
        assert "No GPU was available, so cuDNN was not measured." in printed


def test_quick_benchmark_is_logged_to_mlflow_experiment_benchmarks(quick_run):
    import mlflow

    _, _, uri, _ = quick_run
    client = mlflow.MlflowClient(tracking_uri=uri)
    experiment = client.get_experiment_by_name("benchmarks")
    assert experiment is not None
    runs = client.search_runs([experiment.experiment_id])
    assert len(runs) == 1
    run = runs[0]
    assert run.data.params["device"]
    assert run.data.params["tensorflow"] and run.data.params["keras"]
    assert run.data.tags["keras_gru_kernel"]
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id)}
    assert {"gru_benchmark.json", "gru_benchmark.md"} <= artifacts


def test_bad_shape_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as excinfo:
        main(["benchmark", "--shapes", "8,6,3", "--no-mlflow"])
    assert excinfo.value.code == 2
    assert "four positive integers" in capsys.readouterr().err


def test_no_mlflow_flag_skips_tracking(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    status = main(["benchmark", "--quick", "--no-mlflow", "--output", str(tmp_path / "out")])
    assert status == 0
    assert (tmp_path / "out" / "gru_benchmark.json").exists()
    assert not (tmp_path / "mlflow.db").exists()
    assert "MLflow run" not in capsys.readouterr().out
