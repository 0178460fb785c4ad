"""Bad pipeline configs through the CLI: one line on stderr, exit 2, no traceback and no
MLflow run created. A comparison that fails mid-training ends every run FAILED with its reason."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import mlflow
import pytest
import yaml
from mlflow.entities import ViewType

from forecasting.cli import main
from forecasting.tracking.runs import REASON_TAG
from forecasting.tracking.store import sqlite_path

SHORT = {"a": 300, "b": 310}  # short series: a diverging comparison fails within seconds


def all_runs(uri: str) -> list:
    """Every run in the store, deleted experiments included; [] when no store was created."""
    if not sqlite_path(uri).exists():
        return []
    client = mlflow.MlflowClient(tracking_uri=uri)
    experiments = client.search_experiments(view_type=ViewType.ALL)
    if not experiments:
        return []
    return client.search_runs([e.experiment_id for e in experiments], run_view_type=ViewType.ALL)


@pytest.fixture
def pipeline(tmp_path, sales_csv, config_tree, fresh_store):
    """Factory: write the small pipeline YAML (edited by ``change``) and return its path.

    The YAML names no tracking URI: the per-test store comes from MLFLOW_TRACKING_URI.
    """

    def write(change=None, lengths=None) -> Path:
        tree = config_tree(sales_csv(lengths), fresh_store)
        del tree["mlflow"]["tracking_uri"]
        if change:
            change(tree)
        path = tmp_path / "pipeline.yaml"
        path.write_text(yaml.safe_dump(tree))
        return path

    return write


def _assert_one_line_exit_2(capsys, status: int, fragments: list[str]) -> str:
    out, err = capsys.readouterr()
    assert status == 2, f"exit status {status}, stderr: {err}"
    assert "Traceback" not in err and "Traceback" not in out
    lines = err.strip().splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got:\n{err}"
    line = lines[0]
    assert line.startswith("error: ")
    for fragment in fragments:
        assert fragment in line, f"{fragment!r} not in {line!r}"
    assert out == "", "nothing is reported as done"
    return line


def _set(section: str, key: str, value):
    def change(tree: dict) -> None:
        tree.setdefault(section, {})[key] = value

    return change


@pytest.mark.parametrize(
    ("change", "args", "fragments"),
    [
        pytest.param(
            _set("training", "epochs", 3),
            [],
            ["pipeline.yaml", "unknown key 'training.epochs'"],
            id="unknown-key",
        ),
        pytest.param(
            _set("surprise", "x", 1), [], ["unknown key 'surprise'"], id="unknown-section"
        ),
        pytest.param(
            _set("training", "max_epochs", "many"),
            [],
            ["pipeline.yaml", "training.max_epochs", "integer", "'many'"],
            id="wrong-type",
        ),
        pytest.param(
            _set("model", "gru_impl", "cudnn"), [], ["model.gru_impl", "'cudnn'"], id="bad-choice"
        ),
        pytest.param(
            None,
            ["--set", "windowing.horizon=0"],
            ["windowing.horizon", "greater than 0", "(received 0)"],
            id="horizon-zero",
        ),
        pytest.param(
            None,
            ["--set", "windowing.horizon=-3"],
            ["windowing.horizon", "(received -3)"],
            id="horizon-negative",
        ),
        # Every series too short: that is the whole panel, so the data are refused, not left out.
        pytest.param(
            None,
            ["--set", "windowing.lookback=600"],
            [
                "sales.csv",
                "column 'sales'",
                "3 of 3 series have fewer than 875 points",
                "(lookback 600 + horizon 12 + validation and backtest)",
                "that is most of the panel",
                "'north', 'south', 'west'",
                "shortest 'west' has 690 points",
            ],
            id="lookback-too-long-split",
        ),
        pytest.param(
            None,
            ["--set", "windowing.lookback=2000"],
            [
                "sales.csv",
                "column 'sales'",
                "3 of 3 series have fewer than 2875 points",
                "(lookback 2000 + horizon 12 + validation and backtest)",
                "that is most of the panel",
            ],
            id="lookback-longer-than-series",
        ),
        pytest.param(
            None,
            ["--set", "data.path=/nonexistent/sales.csv"],
            ["/nonexistent/sales.csv", "file not found"],
            id="missing-data-file",
        ),
        pytest.param(
            None,
            ["--set", "training.max_epochs"],
            ["--set 'training.max_epochs'", "expected key=value"],
            id="set-without-value",
        ),
        pytest.param(
            None,
            ["--set", "model.units.size=3"],
            ["'units' is not a section"],
            id="set-into-a-value",
        ),
        pytest.param(
            None, ["--set", "training.max_epochs=[1,"], ["cannot parse value"], id="set-unparsable"
        ),
        pytest.param(
            None,
            ["--set", "training.learning_rate=0"],
            ["training.learning_rate", "greater than 0"],
            id="set-zero-learning-rate",
        ),
        pytest.param(
            _set("intervals", "levels", [80, 100]),
            [],
            ["pipeline.yaml", "intervals.levels", "level 100 is outside (0, 100)", "[80, 100]"],
            id="interval-level-100",
        ),
        pytest.param(
            None,
            ["--set", "intervals.levels=[0]"],
            ["intervals.levels", "level 0 is outside (0, 100)", "(received [0])"],
            id="interval-level-0",
        ),
        pytest.param(
            None,
            ["--set", "intervals.levels=[80.5]"],
            ["intervals.levels", "level 80.5 is not an integer", "(received [80.5])"],
            id="interval-level-not-integer",
        ),
    ],
)
def test_bad_config_through_run(pipeline, capsys, fresh_store, change, args, fragments):
    status = main(["run", str(pipeline(change)), *args])
    _assert_one_line_exit_2(capsys, status, fragments)
    assert all_runs(fresh_store) == [], "no MLflow run may be created for bad input"


def test_missing_and_invalid_pipeline_files(tmp_path, capsys, fresh_store):
    status = main(["run", str(tmp_path / "nope.yaml")])
    _assert_one_line_exit_2(capsys, status, ["nope.yaml", "pipeline config not found"])
    bad = tmp_path / "bad.yaml"
    bad.write_text("training:\n  max_epochs: [1\n")
    status = main(["run", str(bad)])
    _assert_one_line_exit_2(capsys, status, ["bad.yaml", "invalid YAML at line"])
    assert all_runs(fresh_store) == []


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        pytest.param(
            ["--horizon", "0"], ["windowing.horizon", "greater than 0"], id="horizon-zero"
        ),
        pytest.param(
            ["--horizon", "12", "--lookback", "650"],
            [
                "3 of 3 series have fewer than 947 points (lookback 650 + horizon 12",
                "most of the panel",
            ],
            id="lookback-too-long",
        ),
        pytest.param(
            ["--horizon", "12", "--lookback", "0"],
            ["windowing.lookback", "greater than 0", "(received 0)"],
            id="lookback-zero",
        ),
        pytest.param(
            ["--horizon", "12", "--arch", "x"],
            ["model.arch: Input should be 'segment' or 'pointwise' (received 'x')"],
            id="bad-arch",
        ),
        pytest.param(
            ["--horizon", "12", "--target", "revenue"],
            ["missing target column 'revenue'"],
            id="missing-target-column",
        ),
    ],
)
def test_bad_input_through_compare(sales_csv, capsys, fresh_store, args, fragments):
    data = sales_csv()
    status = main(
        [
            "compare",
            "--data",
            str(data),
            "--id-col",
            "store",
            "--time-col",
            "timestamp",
            "--target",
            "sales",
            *args,
        ]
    )
    _assert_one_line_exit_2(capsys, status, fragments)
    assert all_runs(fresh_store) == []


def test_missing_data_file_through_compare(tmp_path, capsys, fresh_store):
    status = main(["compare", "--data", str(tmp_path / "gone.csv"), "--horizon", "6"])
    _assert_one_line_exit_2(capsys, status, ["gone.csv", "file not found"])
    assert all_runs(fresh_store) == []


def test_the_real_command_prints_exactly_one_line(pipeline, fresh_store, tmp_path):
    """Through the installed entry point (logging and TensorFlow start-up included)."""
    path = pipeline(_set("windowing", "lookback", 600))
    proc = subprocess.run(
        [sys.executable, "-m", "forecasting", "run", str(path)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=300,
        env=os.environ | {"MLFLOW_TRACKING_URI": fresh_store},
    )
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip().splitlines() == [
        f"error: {tmp_path / 'sales.csv'}: column 'sales': 3 of 3 series have fewer than 875 points (lookback 600 "
        "+ horizon 12 + validation and backtest), that is most of the panel: 'north', 'south', 'west'; "
        "shortest 'west' has 690 points (shorten the lookback or the horizon)"
    ]
    assert proc.stdout == ""
    assert all_runs(fresh_store) == []


PARENT_NAME = "sales.csv · H=12 · <start time>"


def _names(runs) -> list[str]:
    """Run names, parent first; the parent's start time (``YYYY-MM-DD HH:MM``) masked."""
    names = [re.sub(r"\d{4}-\d\d-\d\d \d\d:\d\d$", "<start time>", r.info.run_name) for r in runs]
    return sorted(names, key=lambda n: n in ("lstm", "gru"))


def test_diverging_training_ends_every_run_failed_with_its_reason(pipeline, fresh_store, capsys):
    """A learning rate so large that the loss overflows: training stops at the first epoch,
    the user gets one line and exit status 1 (not bad input, not a traceback)."""
    path = pipeline(_set("training", "learning_rate", 1e25), lengths=SHORT)
    assert main(["run", str(path)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("error: loss is ") and err[-1].endswith(
        "at epoch 1: lower the learning rate"
    ), err
    assert not any("Traceback" in line for line in err)
    runs = all_runs(fresh_store)
    assert _names(runs) == [PARENT_NAME, "lstm"], "the GRU never started"
    for run in runs:
        assert run.info.status == "FAILED", run.info.run_name
        reason = run.data.tags[REASON_TAG]
        assert reason.startswith("TrainingDiverged: ")
        assert "is nan at epoch 1" in reason or "is inf at epoch 1" in reason, reason
    assert mlflow.active_run() is None, "no run is left active in the process"
    client = mlflow.MlflowClient(tracking_uri=fresh_store, registry_uri=fresh_store)
    assert client.search_registered_models() == [], "nothing is registered from a failed comparison"


def test_terminated_comparison_ends_every_run_failed(pipeline, fresh_store, tmp_path):
    """SIGTERM (a scheduler or `kill`) during training: exit 130, every run FAILED, none RUNNING."""
    path = pipeline(_set("training", "max_epochs", 500))
    with open(tmp_path / "stderr.txt", "w+") as err:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "forecasting",
                "run",
                str(path),
                "--set",
                "training.patience=500",
            ],
            stdout=subprocess.PIPE,
            stderr=err,
            text=True,
            cwd=tmp_path,
            env=os.environ | {"MLFLOW_TRACKING_URI": fresh_store, "PYTHONUNBUFFERED": "1"},
        )
        try:
            # Keras prints "Epoch 2/500" once the first epoch's metrics went to MLflow.
            for line in proc.stdout:
                if line.startswith("Epoch 2/"):
                    break
            else:
                err.seek(0)
                pytest.fail(f"training never reached epoch 2:\n{err.read()[-3000:]}")
            proc.send_signal(signal.SIGTERM)
            proc.communicate(timeout=120)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        err.seek(0)
        stderr = err.read()
    assert proc.returncode == 130, stderr[-3000:]
    assert stderr.strip().splitlines()[-1] == "interrupted"
    assert "Traceback" not in stderr
    runs = all_runs(fresh_store)
    assert _names(runs) == [PARENT_NAME, "lstm"]
    for run in runs:
        assert run.info.status == "FAILED", run.info.run_name
        assert run.data.tags[REASON_TAG] == "KeyboardInterrupt: terminated by signal 15"


# --- series too short: left out of training, unless most of the panel or --strict ----------------

ONE_SHORT = {
    "north": 700,
    "south": 720,
    "west": 80,
}  # the small pipeline needs 96 points, compare's 108
TWO_SHORT = {"north": 700, "south": 70, "west": 80}


def test_one_short_series_is_left_out_of_training_with_one_warning(
    sales_csv, config_tree, fresh_store, caplog
):
    """Fewer than half of the series too short: the data are not refused; the short series is
    named once and kept out of the windows the models train and are backtested on."""
    from forecasting.config import build_config
    from forecasting.experiments.compare import prepare
    from forecasting.windowing.usable import LeftOut

    cfg = build_config(config_tree(sales_csv(ONE_SHORT), fresh_store), "test config")
    prepared = prepare(cfg)
    assert prepared.left_out == [
        LeftOut(
            "west",
            80,
            "80 points, fewer than the 96 that lookback 48, horizon 12, validation and backtest need",
        )
    ]
    assert prepared.data.ids == ["north", "south"]
    assert prepared.windowed.ids == ["north", "south"]
    warnings = [
        r.getMessage()
        for r in caplog.records
        if r.levelname == "WARNING" and "left out" in r.getMessage()
    ]
    assert len(warnings) == 1, warnings
    assert "1 of 3 series left out of training (fewer than 96 points): 'west'" in warnings[0]
    assert all_runs(fresh_store) == [], "preparing the data starts no run"


def test_strict_refuses_any_short_series_through_compare(sales_csv, capsys, fresh_store):
    data = sales_csv(ONE_SHORT)
    status = main(
        [
            "compare",
            "--data",
            str(data),
            "--id-col",
            "store",
            "--time-col",
            "timestamp",
            "--target",
            "sales",
            "--horizon",
            "12",
            "--lookback",
            "48",
            "--strict",
        ]
    )
    _assert_one_line_exit_2(
        capsys,
        status,
        [
            "column 'sales': 1 of 3 series have fewer than 108 points (lookback 48 + horizon 12 + validation and "
            "backtest), --strict refuses any: 'west'; shortest 'west' has 80 points",
        ],
    )
    assert all_runs(fresh_store) == []


def test_strict_in_the_yaml_refuses_any_short_series(pipeline, capsys, fresh_store):
    status = main(["run", str(pipeline(_set("data", "strict", True), lengths=ONE_SHORT))])
    _assert_one_line_exit_2(
        capsys, status, ["1 of 3 series have fewer than 96 points", "--strict refuses any: 'west'"]
    )
    assert all_runs(fresh_store) == []


def test_short_series_that_are_most_of_the_panel_are_refused(pipeline, capsys, fresh_store):
    status = main(["run", str(pipeline(lengths=TWO_SHORT))])
    _assert_one_line_exit_2(
        capsys,
        status,
        [
            "2 of 3 series have fewer than 96 points",
            "that is most of the panel: 'south', 'west'",
            "shortest 'south' has 70 points",
        ],
    )
    assert all_runs(fresh_store) == []
