"""`pipelines/demo.yaml`, the pipeline `make run` runs: it loads as the README describes it,
`--set` overrides take effect, and the same seed gives identical weights and metrics in
separate processes (README, "What `make run` does" and "Your own data")."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from forecasting.config import load_config
from forecasting.data import load_series
from forecasting.errors import ConfigError

DEMO = Path(__file__).resolve().parents[2] / "pipelines" / "demo.yaml"
MODEL_NAME = "city-temps-forecaster"  # the name the README's serving commands use
CLOCK_METRICS = {"train_seconds", "inference_ms_per_window"}  # wall-clock times, never equal


def test_demo_pipeline_is_the_one_the_readme_describes():
    cfg = load_config(DEMO)
    assert cfg.data.path == "bundled:city-temps" and cfg.data.fill == "interpolate"
    w = cfg.windowing
    assert (w.lookback, w.horizon, w.n_folds) == (72, 24, 3)
    assert (1 - w.val_fraction - w.test_fraction, w.val_fraction, w.test_fraction) == pytest.approx(
        (0.7, 0.1, 0.2)
    )
    t = cfg.training
    assert (t.max_epochs, t.patience, t.seed) == (12, 3, 42)
    assert (cfg.rule.metric, cfg.rule.tolerance, cfg.rule.alpha, cfg.rule.test) == (
        "mase",
        0.05,
        0.05,
        "wilcoxon",
    )
    assert cfg.mlflow.model_name == MODEL_NAME

    data = load_series(cfg.data.path, fill=cfg.data.fill)
    assert sorted(data.ids) == ["san_francisco", "seattle"] and data.freq == "h"
    assert data.filled == {
        "san_francisco": 1,
        "seattle": 1,
    }  # one real missing hour each, interpolated
    assert set(data.frame.groupby("unique_id").size()) == {8_760}  # 8,759 points + the filled hour


def test_set_overrides_take_effect_and_nothing_else_changes():
    plain = load_config(DEMO)
    changed = load_config(
        DEMO, ["training.max_epochs=30", "rule.tolerance=0.03", "data.path=sales.csv"]
    )
    assert changed.training.max_epochs == 30 and changed.rule.tolerance == 0.03
    assert changed.data.path == "sales.csv"
    expected = plain.model_dump()
    expected["training"]["max_epochs"], expected["rule"]["tolerance"], expected["data"]["path"] = (
        30,
        0.03,
        "sales.csv",
    )
    assert changed.model_dump() == expected
    with pytest.raises(ConfigError, match="unknown key 'training.max_epoch'"):
        load_config(DEMO, ["training.max_epoch=30"])


# --- the same seed, twice, in separate processes -----------------------------------------------


def _start_demo(folder: Path, data: Path, seed: int) -> tuple[subprocess.Popen, str]:
    """`forecast run pipelines/demo.yaml` made tiny with --set, into a store of its own."""
    folder.mkdir()
    uri = f"sqlite:///{folder / 'mlflow.db'}"
    overrides = {
        "data.path": data,
        "windowing.lookback": 24,
        "windowing.horizon": 6,
        "windowing.n_folds": 1,
        "model.units": 8,
        "training.max_epochs": 2,
        "training.seed": seed,
        "mlflow.tracking_uri": uri,
    }
    sets = [arg for key, value in overrides.items() for arg in ("--set", f"{key}={value}")]
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI")
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "forecasting", "run", str(DEMO), *sets],
        cwd=folder,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    return proc, uri


def _weights(client, version: str, folder: Path) -> list[np.ndarray]:
    import keras
    import mlflow

    import forecasting.layers  # noqa: F401  registers the product's layers for loading
    import forecasting.models.builder  # noqa: F401  and every layer the forecaster is built of
    import forecasting.models.skip  # noqa: F401

    local = Path(
        mlflow.artifacts.download_artifacts(
            artifact_uri=client.get_model_version_download_uri(MODEL_NAME, version),
            dst_path=str(folder),
            tracking_uri=client.tracking_uri,
        )
    )
    (saved,) = local.rglob("*.keras")
    return keras.saving.load_model(saved, compile=False).get_weights()


def _outcome(uri: str, folder: Path) -> dict:
    """What one run left in its store: parent params and decision, and per family the metric
    histories (clock times left out) and the registered model's weights."""
    import mlflow

    client = mlflow.MlflowClient(tracking_uri=uri, registry_uri=uri)
    experiment = client.get_experiment_by_name("demo-city-temps")  # the experiment demo.yaml names
    (parent,) = client.search_runs([experiment.experiment_id], "tags.role = 'comparison'")
    families = {}
    for mv in client.search_model_versions(f"name='{MODEL_NAME}'"):
        if mv.tags["model_family"] not in ("gru", "lstm"):
            continue  # the best baseline, registered when no network beat it: no weights
        run = client.get_run(mv.run_id)
        histories = {
            key: sorted((m.step, m.value) for m in client.get_metric_history(mv.run_id, key))
            for key in run.data.metrics
            if key not in CLOCK_METRICS
        }
        families[mv.tags["model_family"]] = {
            "metrics": histories,
            "weights": _weights(client, mv.version, folder / f"v{mv.version}"),
        }
    assert sorted(families) == ["gru", "lstm"]
    return {"params": parent.data.params, "tags": parent.data.tags, "families": families}


def _same_weights(a: list[np.ndarray], b: list[np.ndarray]) -> bool:
    return len(a) == len(b) and all(
        x.shape == y.shape and np.array_equal(x, y) for x, y in zip(a, b, strict=True)
    )


@pytest.mark.slow  # three comparisons in three processes: a few minutes on 2 busy cores
def test_the_same_seed_gives_identical_weights_and_metrics(synthetic_panel, tmp_path):
    data = tmp_path / "hourly.csv"
    synthetic_panel(2, 480, seed=5).to_csv(data, index=False)
    started = {
        name: _start_demo(tmp_path / name, data, seed)
        for name, seed in (("first", 42), ("again", 42), ("other-seed", 7))
    }
    outcomes = {}
    for name, (proc, uri) in started.items():
        _, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, f"{name}: {err[-3000:]}"
        outcomes[name] = _outcome(uri, tmp_path / name)
    first, again, other = outcomes["first"], outcomes["again"], outcomes["other-seed"]

    # demo.yaml was loaded (its values where the code's defaults differ) and --set took effect.
    params = first["params"]
    assert (params["name"], params["training.learning_rate"], params["training.batch_size"]) == (
        "demo",
        "0.002",
        "128",
    )
    assert (params["data.path"], params["model.units"], params["training.max_epochs"]) == (
        str(data),
        "8",
        "2",
    )
    for family, recurrent_width in (("lstm", 4 * 8), ("gru", 3 * 8)):
        result = first["families"][family]
        assert result["metrics"]["epochs_trained"] == [(0, 2.0)], family
        assert any(w.shape == (8, recurrent_width) for w in result["weights"]), family  # 8 units

    # The same seed: identical weights, every metric at every step, and the same decision.
    for family in ("lstm", "gru"):
        assert _same_weights(
            first["families"][family]["weights"], again["families"][family]["weights"]
        ), family
        assert first["families"][family]["metrics"] == again["families"][family]["metrics"], family
    assert first["tags"]["decision.reason"] == again["tags"]["decision.reason"]

    # Another seed: other weights and losses (so the comparison above can tell them apart).
    for family in ("lstm", "gru"):
        assert not _same_weights(
            first["families"][family]["weights"], other["families"][family]["weights"]
        ), family
        assert (
            first["families"][family]["metrics"]["val_loss"]
            != other["families"][family]["metrics"]["val_loss"]
        )
