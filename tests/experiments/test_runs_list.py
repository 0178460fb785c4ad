"""`forecast runs list`: past comparisons of a real store, newest first, with data, horizon,
winner, metric and baseline; an unknown experiment or a missing store is one line, exit 2."""

from __future__ import annotations

import pytest

from forecasting.cli import main
from forecasting.experiments.history import past_comparisons


@pytest.fixture(scope="module")
def two_comparisons(tmp_path_factory, run_tiny_comparison, synthetic_panel):
    """Two tiny comparisons in one store: experiment ``older`` (horizon 6), then ``newer`` (4)."""
    root = tmp_path_factory.mktemp("runs-list")
    frame = synthetic_panel(["a", "b"], 400, seed=5)
    older = run_tiny_comparison(root, frame, "older", "older-model", lookback=24, horizon=6)
    newer = run_tiny_comparison(root, frame, "newer", "newer-model", lookback=24, horizon=4)
    assert older.tracking_uri == newer.tracking_uri
    return older, newer


def _lines(out: str) -> list[list[str]]:
    return [line.split() for line in out.strip().splitlines()]


@pytest.mark.slow  # two comparisons: about a minute
def test_lists_every_comparison_newest_first(two_comparisons, capsys):
    older, newer = two_comparisons
    assert main(["runs", "list", "--tracking-uri", older.tracking_uri]) == 0
    header, *rows = _lines(capsys.readouterr().out)
    assert header[:2] == ["started", "experiment"] and header[-1] == "run_id"
    assert [r[-1] for r in rows] == [newer.result.parent_run_id, older.result.parent_run_id]
    for row, ran, horizon in ((rows[0], newer, "4"), (rows[1], older, "6")):
        d = ran.result.decision
        # started (2 cells) experiment data horizon winner metric winner's baseline baseline's
        # beats status run
        assert row[2:7] == [
            ran.config.mlflow.experiment,
            "history.csv",
            horizon,
            d.winner.upper(),
            "mase",
        ]
        assert row[7] == f"{ran.result.table.loc[d.winner, 'mase']:.3f}"
        assert row[8] == d.baseline
        assert row[9] == f"{ran.result.table.loc[d.baseline, 'mase']:.3f}"
        assert row[10] == ("yes" if d.beats_baseline else "no")
        assert row[11] == "FINISHED"


@pytest.mark.slow  # two comparisons: about a minute
def test_one_experiment(two_comparisons, capsys):
    older, _ = two_comparisons
    args = ["runs", "list", "--experiment", "older", "--tracking-uri", older.tracking_uri]
    assert main(args) == 0
    _, *rows = _lines(capsys.readouterr().out)
    assert [r[-1] for r in rows] == [older.result.parent_run_id]


@pytest.mark.slow  # two comparisons: about a minute
def test_frame_holds_the_numbers(two_comparisons):
    older, newer = two_comparisons
    frame = past_comparisons(older.tracking_uri)
    assert list(frame["experiment"]) == ["newer", "older"]
    assert list(frame["horizon"]) == [4, 6]
    assert frame["started"].is_monotonic_decreasing
    row = frame.iloc[1]
    assert row["winner_score"] == pytest.approx(
        older.result.table.loc[older.result.decision.winner, "mase"]
    )


@pytest.mark.slow  # two comparisons: about a minute
def test_unknown_experiment_is_one_line_and_exit_2(two_comparisons, capsys):
    older, _ = two_comparisons
    args = ["runs", "list", "--experiment", "nope", "--tracking-uri", older.tracking_uri]
    assert main(args) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.strip().splitlines() == [
        f"error: no experiment 'nope' in {older.tracking_uri}; experiments: Default, newer, older"
    ]


def test_missing_store_is_one_line_and_exit_2_and_creates_nothing(tmp_path, capsys):
    uri = f"sqlite:///{tmp_path / 'mlruns' / 'mlflow.db'}"
    assert main(["runs", "list", "--tracking-uri", uri]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        f"error: no MLflow store at {uri}: run a comparison first, or pass --tracking-uri"
    ]
    assert not (tmp_path / "mlruns").exists()


def test_empty_store_says_so(fresh_store, capsys):
    from forecasting.tracking.store import ensure_experiment

    ensure_experiment("empty", fresh_store)
    assert main(["runs", "list", "--experiment", "empty", "--tracking-uri", fresh_store]) == 0
    assert "no comparisons in experiment 'empty'" in capsys.readouterr().out
