"""`forecast benchmark model --quick`: JSON, printed tables and MLflow run (no timing assertions)."""

from __future__ import annotations

import json
import math

import pytest

from forecasting.cli import main

CANDIDATES = ("ours_gru", "keras_gru", "keras_lstm")
RATIOS = {
    "lstm_over_ours_gru_train": ("keras_lstm", "ours_gru", "train_step"),
    "lstm_over_ours_gru_predict": ("keras_lstm", "ours_gru", "predict"),
    "lstm_over_keras_gru_train": ("keras_lstm", "keras_gru", "train_step"),
    "lstm_over_keras_gru_predict": ("keras_lstm", "keras_gru", "predict"),
    "keras_gru_over_ours_train": ("keras_gru", "ours_gru", "train_step"),
    "keras_gru_over_ours_predict": ("keras_gru", "ours_gru", "predict"),
}


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory, run_in_checkout):
    """One in-process `forecast benchmark model --quick` with default options, from the
    checkout's root, against a fresh MLflow store in a temporary folder."""
    return run_in_checkout(["benchmark", "model", "--quick"], tmp_path_factory.mktemp("store"))


@pytest.fixture(scope="module")
def quick_report(quick_run, tmp_path_factory):
    return json.loads(quick_run.artifact("model_speed.json", tmp_path_factory.mktemp("artifacts")))


def test_bare_benchmark_lists_the_model_part(capsys):
    assert main(["benchmark"]) == 2
    assert "\n    model" in capsys.readouterr().out


def test_default_options_write_nothing_into_the_source_tree(quick_run):
    assert quick_run.status == 0, quick_run.printed
    assert quick_run.changed == [], "forecast benchmark model wrote into the checkout"


def test_one_row_per_candidate_per_shape_with_finite_positive_times(quick_report):
    shapes = [
        tuple(s[k] for k in ("batch", "lookback", "segment", "horizon", "units", "features"))
        for s in quick_report["shapes"]
    ]
    assert shapes
    rows = quick_report["rows"]
    assert sorted((tuple(r["shape"]), r["implementation"]) for r in rows) == sorted(
        (shape, key) for shape in shapes for key in CANDIDATES
    )
    for row in rows:
        for timing in ("train_step", "predict"):
            t = row[timing]
            assert all(math.isfinite(t[k]) for k in ("min_ms", "median_ms", "max_ms")), row
            assert 0 < t["min_ms"] <= t["median_ms"] <= t["max_ms"], row
        assert math.isfinite(row["train_windows_per_s"]) and row["train_windows_per_s"] > 0
        assert row["params"] > row["recurrent_params"] > 0
        assert row["kernel"]


def test_ratios_are_the_division_of_the_reported_medians(quick_report):
    """LSTM / GRU above 1 means the GRU is the cheaper: the ratios are not inverted."""
    medians = {(tuple(r["shape"]), r["implementation"]): r for r in quick_report["rows"]}
    assert len(quick_report["ratios"]) == len(quick_report["shapes"])
    for ratios in quick_report["ratios"]:
        shape = tuple(ratios["shape"])
        for name, (num, den, timing) in RATIOS.items():
            expected = (
                medians[shape, num][timing]["median_ms"] / medians[shape, den][timing]["median_ms"]
            )
            assert ratios[name] == pytest.approx(expected), name


def test_same_width_gru_and_lstm_parameter_counts(quick_report):
    """The recurrent layer reads U-wide segment embeddings: a GRU (reset_after, two biases per
    gate) has 3·(2·U² + 2·U) weights, an LSTM 4·(2·U² + U); ours matches Keras's GRU, and the
    rest of the forecaster is the same for all three."""
    for shape in {tuple(r["shape"]) for r in quick_report["rows"]}:
        rows = {r["implementation"]: r for r in quick_report["rows"] if tuple(r["shape"]) == shape}
        u = shape[4]
        assert rows["keras_gru"]["recurrent_params"] == 3 * (2 * u * u + 2 * u)
        assert rows["keras_lstm"]["recurrent_params"] == 4 * (2 * u * u + u)
        assert rows["ours_gru"]["params"] == rows["keras_gru"]["params"]
        rest = {r["params"] - r["recurrent_params"] for r in rows.values()}
        assert len(rest) == 1


def test_says_which_kernel_our_gru_ran(quick_report, quick_run):
    ours = [r for r in quick_report["rows"] if r["implementation"] == "ours_gru"]
    for row in ours:
        assert "(training)" in row["kernel"] and "(inference)" in row["kernel"]
        assert "bptt" in row["kernel"]  # what fastest_kernel picks for training
    assert ours[0]["kernel"] in quick_run.printed
    assert isinstance(quick_report["jit_compile"], bool)


def test_prints_the_markdown_tables(quick_run, tmp_path):
    printed = quick_run.printed
    assert "| setting | shape (B, L, w, H, U, F) |" in printed
    assert "| LSTM / our GRU train |" in printed
    for label in ("forecasting.layers.GRU", "keras.layers.GRU", "keras.layers.LSTM"):
        assert label in printed
    assert quick_run.artifact("model_speed.md", tmp_path) in printed


def test_logged_to_mlflow_experiment_benchmarks(quick_run):
    import mlflow

    client = mlflow.MlflowClient(tracking_uri=quick_run.uri)
    run = client.get_run(quick_run.run_id)
    assert client.get_experiment(run.info.experiment_id).name == "benchmarks"
    assert run.info.status == "FINISHED"
    assert run.data.tags["benchmark"] == "model_speed"
    assert run.data.params["ours_gru_kernel"]
    assert run.data.metrics["8x12x4x6x4x1.lstm_over_ours_gru_train"] > 0
    assert run.data.metrics["ours_gru.8x12x4x6x4x1.train_step_ms"] > 0
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id)}
    assert {"model_speed.json", "model_speed.md"} <= artifacts


@pytest.mark.parametrize("shape", ["8,12,4,6,4", "8,12,16,6,4,1", "8,12,4,0,4,1"])
def test_bad_model_shape_is_a_usage_error(shape, capsys):
    with pytest.raises(SystemExit) as excinfo:
        main(["benchmark", "model", "--shapes", shape, "--no-mlflow"])
    assert excinfo.value.code == 2
    assert "six positive integers" in capsys.readouterr().err


def test_bad_repeats_is_refused(capsys):
    assert main(["benchmark", "model", "--repeats", "0", "--no-mlflow"]) == 2
    assert "--repeats" in capsys.readouterr().err
