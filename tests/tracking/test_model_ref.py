"""Model URIs resolve to name, version, run and alias; anything unknown is one clear line."""

from __future__ import annotations

import mlflow
import pytest

from forecasting.errors import InputError
from forecasting.packaging.folder import read_state
from forecasting.tracking.model_ref import fetch_model, resolve_model


@pytest.fixture(scope="module")
def registry(served_model):
    client = mlflow.MlflowClient(
        tracking_uri=served_model.tracking_uri, registry_uri=served_model.tracking_uri
    )
    champion = client.get_model_version_by_alias(served_model.name, "champion")
    (other,) = [  # the LSTM: a version with its family tag and no alias
        v
        for v in client.search_model_versions(f"name='{served_model.name}'")
        if v.tags.get("model_family") == "lstm"
    ]
    return client, champion, other


def test_alias_resolves_to_a_pinned_version(served_model, registry):
    _, champion, _ = registry
    ref = resolve_model(served_model.champion, served_model.tracking_uri)
    assert (ref.name, ref.version, ref.run_id, ref.alias) == (
        served_model.name,
        str(champion.version),
        champion.run_id,
        "champion",
    )
    assert ref.load_uri == f"models:/{served_model.name}/{champion.version}"


def test_version_and_latest(served_model, registry):
    client, champion, challenger = registry
    ref = resolve_model(
        f"models:/{served_model.name}/{challenger.version}", served_model.tracking_uri
    )
    assert (ref.version, ref.run_id, ref.alias) == (
        str(challenger.version),
        challenger.run_id,
        None,
    )
    latest = resolve_model(f"models:/{served_model.name}/latest", served_model.tracking_uri)
    newest = max(
        int(v.version) for v in client.search_model_versions(f"name='{served_model.name}'")
    )
    assert latest.version == str(newest)


def test_run_uri_and_logged_model_id_find_the_registered_version(served_model, registry):
    _, champion, _ = registry
    ref = resolve_model(f"runs:/{champion.run_id}/forecaster", served_model.tracking_uri)
    assert (ref.run_id, ref.name, ref.version) == (
        champion.run_id,
        served_model.name,
        str(champion.version),
    )
    by_id = resolve_model(champion.source, served_model.tracking_uri)  # models:/m-<id>
    assert champion.source.startswith("models:/m-")
    assert (by_id.run_id, by_id.version) == (champion.run_id, str(champion.version))


def test_local_folder_and_its_metadata(served_model, tmp_path, monkeypatch):
    monkeypatch.setenv(
        "MLFLOW_TRACKING_URI", served_model.tracking_uri
    )  # fetch_model downloads from it
    ref = resolve_model(served_model.champion, served_model.tracking_uri)
    folder = fetch_model(ref, tmp_path / "model")
    local = resolve_model(str(folder))
    assert local.load_uri == str(folder.resolve()) and local.run_id and local.name is None
    state = read_state(folder, str(folder))
    assert (state.lookback, state.horizon, state.freq) == (24, 6, "h")
    assert state.columns.id == "unique_id" and state.covariates == ()


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ("models:/tiny-forecaster@nope", "has no alias 'nope' (aliases: @champion"),
        ("models:/tiny-forecaster/99", "has no version 99 (versions: 1, 2"),
        ("models:/no-such-model@champion", "no registered model named 'no-such-model'"),
        ("models:/no-such-model/1", "no registered model named 'no-such-model'"),
        ("models:/tiny-forecaster", "expected models:/NAME@ALIAS or models:/NAME/VERSION"),
        ("runs:/0123456789abcdef/forecaster", "no run '0123456789abcdef'"),
        ("runs:/only-an-id", "expected runs:/RUN_ID/PATH"),
        ("s3://bucket/model", "unsupported scheme"),
        ("/no/such/model/folder", "no such model folder"),
        ("", "model URI is empty"),
    ],
)
def test_unknown_uris_are_one_clear_line(served_model, uri, expected):
    with pytest.raises(InputError) as err:
        resolve_model(uri, served_model.tracking_uri)
    assert expected in str(err.value)
    assert "\n" not in str(err.value)


def test_folder_without_mlmodel_is_rejected(tmp_path):
    with pytest.raises(InputError, match="has no MLmodel file"):
        resolve_model(str(tmp_path))
