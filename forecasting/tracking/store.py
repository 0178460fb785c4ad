"""Where MLflow keeps runs: a SQLite store in ``mlruns/`` with artifacts beside it.

``MLFLOW_TRACKING_URI`` in the environment overrides the default. For any SQLite
store, experiments this package creates keep their artifacts in an ``artifacts``
folder next to the database file, so a store is one self-contained folder.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from urllib.parse import urlparse

log = logging.getLogger(__name__)

DEFAULT_DIR = Path("mlruns")
DB_NAME = "mlflow.db"

# The MLflow UI (3.x) opens an experiment in the view its kind names; without the tag it files
# training runs under "Evaluation runs" of its GenAI view. Ours are model-training experiments.
EXPERIMENT_KIND_TAG = "mlflow.experimentKind"
MODEL_TRAINING = "custom_model_development"


def default_uri(root: Path | None = None) -> str:
    folder = (root or Path.cwd()) / DEFAULT_DIR
    return f"sqlite:///{(folder / DB_NAME).resolve()}"


def resolve_uri(uri: str | None = None) -> str:
    """Explicit URI, else ``MLFLOW_TRACKING_URI``, else ``sqlite:///<cwd>/mlruns/mlflow.db``."""
    return uri or os.environ.get("MLFLOW_TRACKING_URI") or default_uri()


def sqlite_path(uri: str) -> Path | None:
    if not uri.startswith("sqlite:///"):
        return None
    return Path(urlparse(uri).path if uri.startswith("sqlite:////") else uri[len("sqlite:///") :])


def artifact_root(uri: str) -> str | None:
    """Artifact folder for a SQLite store (beside the database), None for servers."""
    db = sqlite_path(uri)
    return (db.resolve().parent / "artifacts").as_uri() if db else None


def use_store(uri: str | None = None) -> str:
    """Point MLflow at the store and return the URI in use.

    A SQLite store is made ready for concurrent commands (``tracking.sqlite.prepare``: its
    folder, write-ahead log, tables created once). Runs left RUNNING by a process of this host
    that is gone (killed with SIGKILL, say) are ended KILLED (``tracking.owner``).
    """
    import mlflow

    uri = resolve_uri(uri)
    db = sqlite_path(uri)
    if db is not None:
        from forecasting.tracking.sqlite import prepare

        prepare(db, uri, artifact_root(uri))
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    from forecasting.tracking.owner import end_orphaned_runs

    end_orphaned_runs(uri)
    return uri


def ensure_experiment(name: str, uri: str | None = None) -> str:
    """Experiment id for ``name``, creating it with its artifacts beside a SQLite store.

    The experiment opens in the UI's model-training view: a new one is created with the
    experiment-kind tag, an existing one without it gets it (a kind set by hand is kept).
    """
    import mlflow

    uri = resolve_uri(uri)
    client = mlflow.MlflowClient(tracking_uri=uri)
    found = client.get_experiment_by_name(name)
    if found is not None:
        if found.lifecycle_stage == "deleted":
            client.restore_experiment(found.experiment_id)
        if EXPERIMENT_KIND_TAG not in found.tags:
            client.set_experiment_tag(found.experiment_id, EXPERIMENT_KIND_TAG, MODEL_TRAINING)
            log.info("experiment %s now opens in the MLflow UI's model-training view", name)
        return found.experiment_id
    root = artifact_root(uri)
    location = f"{root}/{name}" if root else None
    try:
        return client.create_experiment(
            name, artifact_location=location, tags={EXPERIMENT_KIND_TAG: MODEL_TRAINING}
        )
    except mlflow.MlflowException as exc:
        # Another command created it between the look-up and here.
        if exc.error_code != "RESOURCE_ALREADY_EXISTS":
            raise
        found = client.get_experiment_by_name(name)
        if found is None:
            raise
        return found.experiment_id


# MLflow 3.17's UI picks its view from a switch in the browser ("GenAI" | "Model training",
# remembered per browser, GenAI at first), not from the experiment's kind; this query parameter
# opens the model-training view whatever the switch says.
MODEL_TRAINING_VIEW = "workflowType=machine_learning"


def ui_links(base_url: str, experiment_id: str, run_ids: list[str] | None = None) -> list[str]:
    """Direct links to the model-training view of an experiment's runs, and to a comparison of
    ``run_ids`` (the UI otherwise opens on its GenAI view)."""
    base = base_url.rstrip("/")
    links = [f"{base}/#/experiments/{experiment_id}/runs?{MODEL_TRAINING_VIEW}"]
    if run_ids:
        import json
        from urllib.parse import quote

        links.append(
            f"{base}/#/compare-runs?runs={quote(json.dumps(run_ids))}"
            f"&experiments={quote(json.dumps([experiment_id]))}&{MODEL_TRAINING_VIEW}"
        )
    return links


def run_link(base_url: str, experiment_id: str, run_id: str) -> str:
    """A run's page (its description, metrics, child runs) in the model-training view."""
    return (
        f"{base_url.rstrip('/')}/#/experiments/{experiment_id}/runs/{run_id}?{MODEL_TRAINING_VIEW}"
    )
