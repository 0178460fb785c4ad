"""`forecast benchmark speed --quick`: JSON, printed table and MLflow run (no timing assertions)."""

from __future__ import annotations

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
def quick_run(tmp_path_factory, run_in_checkout):
    """One in-process `forecast benchmark speed --quick` with default options, from the
    checkout's root (as `make bench` runs it), against a fresh MLflow store."""
    return run_in_checkout(["benchmark", "speed", "--quick"], tmp_path_factory.mktemp("store"))


@pytest.fixture(scope="module")
def quick_report(quick_run, tmp_path_factory):
    return json.loads(quick_run.artifact("gru_speed.json", tmp_path_factory.mktemp("artifacts")))


def test_default_options_write_nothing_into_the_source_tree(quick_run):
    assert quick_run.status == 0
    assert quick_run.changed == [], "forecast benchmark speed wrote into the checkout"


def test_quick_benchmark_logs_json_with_every_implementation(quick_report):
    env = quick_report["environment"]
    for key in ("device", "keras_gru_kernel", "tensorflow", "keras", "cpu"):
        assert env[key]
    if not env["gpus"]:
        assert env["device"] == "CPU"
        assert "cuDNN was not available" in env["keras_gru_kernel"]

    rows = quick_report["rows"]
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


def test_ratios_are_keras_median_time_over_each_rows(quick_report):
    """Above 1 means faster than keras.layers.GRU: the ratio is not inverted or mixed up."""
    rows = {row["implementation"]: row for row in quick_report["rows"]}
    keras_gru = rows["keras_gru"]
    for row in rows.values():
        for timing, ratio in (
            ("forward", "forward_ratio_vs_keras"),
            ("train_step", "train_ratio_vs_keras"),
        ):
            expected = keras_gru[timing]["median_ms"] / row[timing]["median_ms"]
            assert row[ratio] == pytest.approx(expected), (row["implementation"], ratio)


def test_parameter_counts_are_those_of_a_gru_and_an_lstm(quick_report):
    """At (B, T, D, H) = (8, 6, 3, 4): a GRU with reset_after has 3·(D·H + H·H + 2·H) weights
    (two biases per gate), an LSTM 4·(D·H + H·H + H); ours matches the Keras GRU."""
    rows = {row["implementation"]: row for row in quick_report["rows"]}
    _, _, d, h = rows["keras_gru"]["shape"]
    assert (d, h) == (3, 4)
    assert rows["keras_gru"]["params"] == 3 * (d * h + h * h + 2 * h) == 108
    assert rows["keras_lstm"]["params"] == 4 * (d * h + h * h + h) == 128
    assert rows["ours_gru"]["params"] == rows["ours_cell"]["params"] == rows["keras_gru"]["params"]


def test_quick_benchmark_prints_the_markdown_table(quick_run, tmp_path):
    printed = quick_run.printed
    assert "| shape (B, T, D, H) | implementation |" in printed
    for label in ("forecasting.layers.GRU", "RNN(GRUCell)", "keras.layers.GRU", "LSTM"):
        assert label in printed
    assert quick_run.artifact("gru_speed.md", tmp_path) in printed
    if "Device: CPU" in printed:
        assert "No GPU was available, so cuDNN was not measured." in printed


def test_quick_benchmark_is_logged_to_mlflow_experiment_benchmarks(quick_run):
    import mlflow

    client = mlflow.MlflowClient(tracking_uri=quick_run.uri)
    run = client.get_run(quick_run.run_id)
    experiment = client.get_experiment(run.info.experiment_id)
    assert experiment.name == "benchmarks"
    assert run.info.status == "FINISHED"
    assert run.data.tags["benchmark"] == "gru_speed"
    assert run.data.params["device"]
    assert run.data.params["tensorflow"] and run.data.params["keras"]
    assert run.data.tags["keras_gru_kernel"]
    assert run.data.metrics["ours_gru.8x6x3x4.train_ratio_vs_keras"] > 0
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id)}
    assert {"gru_speed.json", "gru_speed.md"} <= artifacts


def test_bad_shape_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as excinfo:
        main(["benchmark", "speed", "--shapes", "8,6,3", "--no-mlflow"])
    assert excinfo.value.code == 2
    assert "four positive integers" in capsys.readouterr().err


def test_out_keeps_the_files_and_no_mlflow_skips_tracking(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    status = main(["benchmark", "speed", "--quick", "--no-mlflow", "--out", str(tmp_path / "out")])
    assert status == 0
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "gru_speed.json",
        "gru_speed.md",
    ]
    report = json.loads((tmp_path / "out" / "gru_speed.json").read_text())
    assert {row["implementation"] for row in report["rows"]} >= EXPECTED_IMPLEMENTATIONS
    assert not (tmp_path / "mlflow.db").exists()
    printed = capsys.readouterr().out
    assert (tmp_path / "out" / "gru_speed.md").read_text() in printed
    assert "MLflow run" not in printed
