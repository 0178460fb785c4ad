"""Retraining: a warm start starts from the registered weights, a retrain on unchanged data is not
promoted, and ``warm_start: latest`` that cannot start warm is one line, exit 2, nothing trained.

One tiny cold comparison registers an LSTM and a GRU version; one retrain of it with
``warm_start: latest`` and no fine-tuning epochs is shared by the tests that read a retrain.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import yaml

from forecasting.cli import main
from forecasting.config import PipelineConfig, build_config
from forecasting.exit_status import ExitStatus

MODEL = "retrain-forecaster"
LOOKBACK, HORIZON = 24, 6


@dataclass(frozen=True)
class Retrained:
    uri: str
    cfg: PipelineConfig  # the first comparison's config
    first: object  # ComparisonResult of the cold comparison
    retrain: object  # ComparisonResult of the warm retrain (warm_epochs 0, another seed)
    pipeline: Path  # the first comparison's config as a pipeline file


def _keras_weights(uri: str, version: str, tmp: Path) -> list[np.ndarray]:
    from forecasting.packaging.folder import keras_path, load_keras
    from forecasting.tracking.model_ref import fetch_model, resolve_model
    from forecasting.tracking.store import use_store

    use_store(uri)
    source = f"models:/{MODEL}/{version}"
    folder = fetch_model(resolve_model(source, uri), tmp / version)
    return load_keras(keras_path(folder, source)).get_weights()


def _retrain_config(cfg: PipelineConfig, *overrides: str) -> PipelineConfig:
    return build_config(cfg.model_dump(mode="json"), "retrain test", list(overrides))


@pytest.fixture(scope="module")
def retrained(tmp_path_factory, run_tiny_comparison, synthetic_panel, reset_mlflow) -> Retrained:
    from forecasting.jobs.retrain import retrain

    root = tmp_path_factory.mktemp("retrain")
    first = run_tiny_comparison(
        root,
        synthetic_panel(["s0", "s1"], 480, seed=5),
        "retrain-tests",
        MODEL,
        LOOKBACK,
        HORIZON,
        serve=None,
    )
    pipeline = root / "pipeline.yaml"
    pipeline.write_text(yaml.safe_dump(first.config.model_dump(mode="json")))
    # Another seed: a network built from scratch would start from other weights.
    cfg = _retrain_config(
        first.config, "training.warm_start=latest", "training.warm_epochs=0", "training.seed=7"
    )
    try:
        result = retrain(cfg)
    finally:
        reset_mlflow()
    return Retrained(first.tracking_uri, first.config, first.result, result, pipeline)


def test_a_warm_start_starts_from_the_registered_weights(retrained, tmp_path):
    import keras

    from forecasting.experiments.compare import prepare
    from forecasting.models.builder import build_forecaster

    p = prepare(retrained.cfg)
    w = p.windowed
    for family in ("lstm", "gru"):
        before = retrained.first.families[family]
        after = retrained.retrain.families[family]
        assert after.start.warm and after.start.version == before.version
        assert after.version != before.version
        old = _keras_weights(retrained.uri, before.version, tmp_path)
        new = _keras_weights(retrained.uri, after.version, tmp_path)
        # No fine-tuning epochs: the new version holds exactly the registered weights...
        assert len(old) == len(new)
        assert all(np.array_equal(a, b) for a, b in zip(old, new, strict=True))
        # ...which a network built from scratch with the retrain's seed would not have.
        keras.utils.set_random_seed(7)
        fresh = build_forecaster(
            family,
            p.cfg.model,
            LOOKBACK,
            HORIZON,
            w.n_features,
            w.n_calendar,
            p.period,
            w.calendar_names,
        ).get_weights()
        assert [w.shape for w in fresh] == [w.shape for w in old]
        assert not all(np.array_equal(a, b) for a, b in zip(old, fresh, strict=True))


def test_the_registry_and_mlflow_record_the_warm_start(retrained):
    import mlflow

    c = mlflow.MlflowClient(tracking_uri=retrained.uri, registry_uri=retrained.uri)
    parent = c.get_run(retrained.retrain.parent_run_id).data.tags
    assert parent["retrain"] == "true"
    for family in ("lstm", "gru"):
        r = retrained.retrain.families[family]
        version_from = retrained.first.families[family].version
        assert (
            parent[f"warm_start.{family}"] == f"{family.upper()} warm: from version {version_from}"
        )
        child = c.get_run(r.run_id).data.tags
        assert (child["warm_start"], child["warm_start.version"]) == ("warm", version_from)
        assert c.get_model_version(MODEL, r.version).tags["warm_start_from"] == version_from


def test_a_retrain_on_unchanged_data_is_not_promoted_and_says_why(retrained):
    import mlflow

    from forecasting.jobs.retrain import outcome_line

    c = mlflow.MlflowClient(tracking_uri=retrained.uri, registry_uri=retrained.uri)
    promotion = retrained.retrain.promotion
    champion_before = retrained.first.promotion.version
    assert not promotion.promoted
    assert promotion.previous == champion_before
    assert promotion.reason.startswith("does not beat the current champion on the same windows")
    assert str(c.get_model_version_by_alias(MODEL, "champion").version) == champion_before
    candidate = retrained.retrain.candidate_version
    assert str(c.get_model_version_by_alias(MODEL, "challenger").version) == candidate
    assert c.get_model_version(MODEL, candidate).tags["not_promoted_reason"] == promotion.reason
    tags = c.get_run(retrained.retrain.parent_run_id).data.tags
    assert tags["champion.promoted"] == "false"
    assert tags["champion.reason"] == promotion.reason
    assert outcome_line(retrained.retrain).startswith(f"version {candidate} (")
    assert "stays challenger: does not beat the current champion" in outcome_line(retrained.retrain)


def _runs(uri: str) -> list:
    import mlflow

    c = mlflow.MlflowClient(tracking_uri=uri)
    ids = [e.experiment_id for e in c.search_experiments()]
    return c.search_runs(ids, max_results=1000)


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ("model.arch=pointwise", "arch is 'segment' there, 'pointwise' in this pipeline"),
        ("model.units=16", "(model.units, layers or segment differ)"),
    ],
)
def test_latest_with_another_architecture_is_one_line_exit_2_and_trains_nothing(
    retrained, capsys, change, problem
):
    import mlflow

    runs_before = _runs(retrained.uri)
    c = mlflow.MlflowClient(tracking_uri=retrained.uri, registry_uri=retrained.uri)
    versions_before = len(c.search_model_versions(f"name = '{MODEL}'"))
    capsys.readouterr()
    status = main(
        [
            "retrain",
            str(retrained.pipeline),
            "--warm-start",
            "latest",
            "--set",
            change,
            "--tracking-uri",
            retrained.uri,
        ]
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert status == ExitStatus.BAD_INPUT
    errors = [line for line in err if line.startswith("error: ")]
    assert (
        errors == [errors[0]]
        and "training.warm_start is latest but LSTM cannot start warm" in errors[0]
    )
    assert problem in errors[0] and "nothing was trained" in errors[0]
    runs_after = _runs(retrained.uri)
    assert len(runs_after) == len(runs_before)
    assert not [r for r in runs_after if r.info.status == "RUNNING"]
    assert len(c.search_model_versions(f"name = '{MODEL}'")) == versions_before


def test_auto_trains_cold_where_the_version_does_not_fit_and_says_why(retrained):
    from forecasting.experiments.compare import FAMILIES, prepare
    from forecasting.experiments.warm_start import plan_starts

    cfg = _retrain_config(retrained.cfg, "training.warm_start=auto", "model.units=16")
    p = prepare(cfg)
    starts = plan_starts(p.cfg, p.windowed, p.period, retrained.uri, FAMILIES)
    for family in FAMILIES:
        assert not starts[family].warm
        assert starts[family].reason.startswith(
            f"version {retrained.retrain.families[family].version}"
        )
        assert "does not fit" in starts[family].reason
    same = prepare(_retrain_config(retrained.cfg, "training.warm_start=auto"))
    starts = plan_starts(same.cfg, same.windowed, same.period, retrained.uri, FAMILIES)
    assert all(s.warm for s in starts.values())  # the latest LSTM and GRU versions fit
    cold = prepare(_retrain_config(retrained.cfg, "training.warm_start=cold"))
    starts = plan_starts(cold.cfg, cold.windowed, cold.period, retrained.uri, FAMILIES)
    assert [s.reason for s in starts.values()] == ["training.warm_start is cold"] * 2


def test_latest_without_a_registered_version_of_the_family_is_refused(retrained):
    from forecasting.errors import ConfigError
    from forecasting.experiments.compare import FAMILIES, prepare
    from forecasting.experiments.warm_start import plan_starts

    cfg = _retrain_config(
        retrained.cfg, "training.warm_start=latest", "mlflow.model_name=never-registered"
    )
    p = prepare(cfg)
    with pytest.raises(ConfigError, match="has no LSTM version yet; nothing was trained"):
        plan_starts(p.cfg, p.windowed, p.period, retrained.uri, FAMILIES)


def test_a_baseline_champion_needs_no_weights_each_family_starts_from_its_own_version(retrained):
    import mlflow

    c = mlflow.MlflowClient(tracking_uri=retrained.uri, registry_uri=retrained.uri)
    champion = c.get_model_version_by_alias(MODEL, "champion")
    # The one-epoch networks did not beat the seasonal naive forecast: a packaged baseline is
    # the champion (and the latest registered version of the first comparison)...
    assert champion.tags["model_family"] == retrained.first.decision.candidate == "seasonal_naive"
    assert int(champion.version) > max(int(r.version) for r in retrained.first.families.values())
    # ...and each family still started warm, from its own network version.
    for family, r in retrained.retrain.families.items():
        assert r.start.warm
        assert c.get_model_version(MODEL, r.start.version).tags["model_family"] == family
