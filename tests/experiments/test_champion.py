"""A champion that never gets worse: the best baseline serves when no RNN beats it, a second
comparison that is not better leaves the champion where it was, and promote / rollback move the
alias by hand with a record on the version."""

from __future__ import annotations

import mlflow
import numpy as np
import pandas as pd
import pytest

from forecasting.cli import main
from forecasting.exit_status import ExitStatus
from forecasting.tracking.registry import history

NAME = "walk-forecaster"


def random_walks(n_series: int = 2, length: int = 500, seed: int = 0) -> pd.DataFrame:
    """Hourly random walks without a season: the last value is the best forecast there is."""
    rng = np.random.default_rng(seed)
    parts = [
        pd.DataFrame(
            {
                "unique_id": f"w{i}",
                "ds": pd.date_range("2024-01-01", periods=length, freq="h"),
                "y": 100.0 + np.cumsum(rng.normal(0.0, 1.0, length)),
            }
        )
        for i in range(n_series)
    ]
    return pd.concat(parts, ignore_index=True)


@pytest.fixture(scope="module")
def walks(tmp_path_factory, run_tiny_comparison):
    """Two comparisons on the same random walks into one store, the second a different seed."""
    root = tmp_path_factory.mktemp("walks")
    frame = random_walks()
    first = run_tiny_comparison(root, frame, "walks", NAME, 24, 6, serve=None)
    second = run_tiny_comparison(root, frame, "walks", NAME, 24, 6, seed=7, serve=None)
    client = mlflow.MlflowClient(tracking_uri=first.tracking_uri, registry_uri=first.tracking_uri)
    return first, second, client


def champion(client):
    return client.get_model_version_by_alias(NAME, "champion")


def test_naive_beats_both_rnns_and_serves(walks, assert_nested_intervals):
    first, _, client = walks
    d = first.result.decision
    assert d.baseline == "naive" and not d.beats_baseline
    assert d.candidate == "naive"
    assert "does NOT beat the best baseline, naive" in d.reason
    served = client.get_model_version(NAME, history(client, NAME)[0])
    assert served.tags["model_family"] == "naive"
    assert served.tags["promotion_reason"] == "first champion of this registered model"
    # The packaged baseline is a real forecaster: the next six hours repeat each last value.
    mlflow.set_tracking_uri(first.tracking_uri)  # the autouse fixture resets it afterwards
    mlflow.set_registry_uri(first.tracking_uri)
    model = mlflow.pyfunc.load_model(f"models:/{NAME}/{served.version}")
    frame = random_walks()
    out = model.predict(frame)
    last = frame.groupby("unique_id")["y"].last()
    assert set(out["forecaster"]) == {"naive"}
    for uid, rows in out.groupby("unique_id"):
        assert len(rows) == 6
        np.testing.assert_allclose(rows["y_hat"], last[uid])
        # with the baseline's own conformal intervals, calibrated like a network's
        assert_nested_intervals(rows)


def test_a_second_comparison_that_is_not_better_leaves_the_champion(walks):
    first, second, client = walks
    p = second.result.promotion
    assert p is not None and not p.promoted
    assert p.previous == first.result.candidate_version
    assert str(champion(client).version) == first.result.candidate_version
    challenger = client.get_model_version_by_alias(NAME, "challenger")
    assert str(challenger.version) == second.result.candidate_version
    assert f"forecast models promote {NAME} {p.version}" in p.reason
    assert "does not beat the current champion on the same windows" in p.reason
    assert challenger.tags["not_promoted_reason"] == p.reason


def test_promote_and_rollback_round_trip(walks, capsys):
    first, second, client = walks
    uri = first.tracking_uri
    before = str(champion(client).version)
    gru = second.result.families["gru"].version

    assert main(["models", "promote", NAME, gru, "--tracking-uri", uri]) == ExitStatus.OK
    assert str(champion(client).version) == gru
    promoted = client.get_model_version(NAME, gru)
    assert promoted.tags["promoted_how"] == "forecast models promote"
    assert f"{NAME}@champion is now version {gru} (was version {before})" in capsys.readouterr().out

    assert main(["models", "list", NAME, "--tracking-uri", uri]) == ExitStatus.OK
    listing = capsys.readouterr().out
    header, *rows = listing.strip().splitlines()
    assert header.split()[:5] == ["version", "aliases", "family", "metric", "backtest"]
    newest = max(int(v.version) for v in client.search_model_versions(f"name='{NAME}'"))
    assert rows[0].split()[0] == str(newest)  # newest first
    assert any(r.split()[:2] == [gru, "champion"] for r in rows)

    assert main(["models", "rollback", NAME, "--tracking-uri", uri]) == ExitStatus.OK
    assert str(champion(client).version) == before
    assert (
        "rolled back from version " + gru
        in capsys.readouterr().out + client.get_model_version(NAME, before).tags["promotion_reason"]
    )
    assert client.get_model_version(NAME, gru).tags["rolled_back_at"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["promote", NAME, "99"], f"registered model '{NAME}' has no version '99'"),
        (["promote", "no-such-model", "1"], "no registered model 'no-such-model'"),
        (["rollback", NAME], "no previous one to roll back to"),
    ],
)
def test_bad_registry_requests_are_one_line_and_change_nothing(
    tmp_path_factory, walks, capsys, argv, message
):
    first, _, client = walks
    if argv[0] == "rollback":  # a model whose only champion ever is its first
        uri = f"sqlite:///{tmp_path_factory.mktemp('single') / 'mlflow.db'}"
        c = mlflow.MlflowClient(tracking_uri=uri, registry_uri=uri)
        c.create_registered_model(NAME)
        run = c.create_run(c.create_experiment("x"))
        v = c.create_model_version(NAME, "runs:/x/m", run_id=run.info.run_id)
        from forecasting.tracking.registry import make_champion

        make_champion(c, NAME, v.version, "test", "only one")
    else:
        uri, c = first.tracking_uri, client
    before = str(c.get_model_version_by_alias(NAME, "champion").version)
    status = main(["models", *argv, "--tracking-uri", uri])
    err = capsys.readouterr().err.strip().splitlines()
    assert status == ExitStatus.BAD_INPUT
    assert len(err) == 1 and message in err[0], err
    assert str(c.get_model_version_by_alias(NAME, "champion").version) == before


def test_the_champion_moves_under_one_lock_per_registered_model(walks):
    """While another process holds the model's lock (a comparison scoring the champion), a
    promotion waits for it instead of moving the alias underneath it."""
    import os
    import subprocess
    import sys
    import time

    from forecasting.tracking.registry import model_lock

    first, second, client = walks
    uri = first.tracking_uri
    target = second.result.families["lstm"].version
    before = str(champion(client).version)
    assert before != target
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    argv = [sys.executable, "-m", "forecasting", "models", "promote", NAME, target]
    with model_lock(uri, NAME):
        proc = subprocess.Popen([*argv, "--tracking-uri", uri], env=env, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 12  # the command starts in a few seconds, then waits
        while time.monotonic() < deadline:
            assert proc.poll() is None, proc.stderr.read().decode()
            assert str(champion(client).version) == before
            time.sleep(0.5)
    assert proc.wait(timeout=120) == 0, proc.stderr.read().decode()
    assert str(champion(client).version) == target


def test_diagnosing_a_packaged_baseline_is_one_line(walks, tmp_path, capsys):
    first, _, _ = walks
    naive = first.result.candidate_version  # the naive baseline, registered as a forecaster
    status = main(
        [
            "diagnose",
            "--model",
            f"models:/{NAME}/{naive}",
            "--data",
            str(first.data_csv),
            "--output",
            str(tmp_path / "diag"),
            "--tracking-uri",
            first.tracking_uri,
        ]
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert status == ExitStatus.BAD_INPUT
    assert len(err) == 1 and "the packaged naive baseline has no network to diagnose" in err[0]
    assert not (tmp_path / "diag").exists()
