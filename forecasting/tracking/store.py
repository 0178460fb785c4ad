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
    """Point MLflow at the store (creating its folder) and return the URI in use."""
    import mlflow

    uri = resolve_uri(uri)
    db = sqlite_path(uri)
    if db is not None:
        db.parent.mkdir(parents=True, exist_ok=True)
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    return uri


def ensure_experiment(name: str, uri: str | None = None) -> str:
    """Experiment id for ``name``, creating it with its artifacts beside a SQLite store."""
    import mlflow

    uri = resolve_uri(uri)
    client = mlflow.MlflowClient(tracking_uri=uri)
    found = client.get_experiment_by_name(name)
    if found is not None:
        if found.lifecycle_stage == "deleted":
            client.restore_experiment(found.experiment_id)
        return found.experiment_id
    root = artifact_root(uri)
    location = f"{root}/{name}" if root else None
    return client.create_experiment(name, artifact_location=location)


def ui_links(base_url: str, experiment_id: str, run_ids: list[str] | None = None) -> list[str]:
    """Direct links to the training-runs view (the UI otherwise opens on its GenAI view)."""
    base = base_url.rstrip("/")
    links = [f"{base}/#/experiments/{experiment_id}/runs"]
    if run_ids:
        import json
        from urllib.parse import quote

        links.append(
            f"{base}/#/compare-runs?runs={quote(json.dumps(run_ids))}&experiments={quote(json.dumps([experiment_id]))}"
        )
    return links
