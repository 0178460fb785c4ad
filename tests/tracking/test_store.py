"""Experiments open in the MLflow UI's model-training view: the kind tag on every experiment the
product creates or reuses, and links that choose the view."""

from __future__ import annotations

import mlflow

from forecasting.tracking.store import (
    EXPERIMENT_KIND_TAG,
    MODEL_TRAINING,
    ensure_experiment,
    run_link,
    ui_links,
)


def test_new_experiment_is_a_model_training_experiment(fresh_store):
    experiment_id = ensure_experiment("sales", fresh_store)
    experiment = mlflow.MlflowClient(fresh_store).get_experiment(experiment_id)
    assert experiment.tags[EXPERIMENT_KIND_TAG] == MODEL_TRAINING == "custom_model_development"


def test_existing_experiment_without_a_kind_gets_it_and_a_chosen_kind_is_kept(fresh_store):
    client = mlflow.MlflowClient(fresh_store)
    old = client.create_experiment("batch-predictions")  # as stores made before the tag hold it
    chosen = client.create_experiment("mine", tags={EXPERIMENT_KIND_TAG: "forecasting"})
    assert EXPERIMENT_KIND_TAG not in client.get_experiment(old).tags

    assert ensure_experiment("batch-predictions", fresh_store) == old
    assert ensure_experiment("mine", fresh_store) == chosen

    assert client.get_experiment(old).tags[EXPERIMENT_KIND_TAG] == MODEL_TRAINING
    assert client.get_experiment(chosen).tags[EXPERIMENT_KIND_TAG] == "forecasting"


def test_deleted_experiment_is_restored_with_its_kind(fresh_store):
    client = mlflow.MlflowClient(fresh_store)
    experiment_id = client.create_experiment("benchmarks")
    client.delete_experiment(experiment_id)
    assert ensure_experiment("benchmarks", fresh_store) == experiment_id
    experiment = client.get_experiment(experiment_id)
    assert experiment.lifecycle_stage == "active"
    assert experiment.tags[EXPERIMENT_KIND_TAG] == MODEL_TRAINING


def test_links_open_the_model_training_view():
    runs, compare = ui_links("http://127.0.0.1:5000/", "7", ["a1", "b2"])
    assert runs == "http://127.0.0.1:5000/#/experiments/7/runs?workflowType=machine_learning"
    assert compare.startswith("http://127.0.0.1:5000/#/compare-runs?runs=")
    assert compare.endswith("&workflowType=machine_learning")
    assert (
        run_link("http://h:1", "7", "a1")
        == "http://h:1/#/experiments/7/runs/a1?workflowType=machine_learning"
    )
