"""Which model a URI names: registry name, version, alias and the run that logged it.

Accepted forms:

- ``models:/NAME@ALIAS``: the version the alias points at now (pinned for the rest of the job);
- ``models:/NAME/VERSION`` (or ``models:/NAME/latest``, the highest version);
- ``models:/m-<id>``: a logged model by its MLflow 3 id;
- ``runs:/RUN_ID/PATH``: a model logged in a run;
- a local folder holding an ``MLmodel`` file (or ``file://`` URI of one).

Anything else, or a name/alias/version/run the store does not have, is an
:class:`~forecasting.errors.InputError` with one line that says what exists.
"""

from __future__ import annotations

import logging
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import unquote, urlparse

from forecasting.errors import InputError
from forecasting.errors import first_line as _first_line

log = logging.getLogger(__name__)

MLMODEL = "MLmodel"
_FORMS = "models:/NAME@ALIAS, models:/NAME/VERSION, runs:/RUN_ID/PATH or a local model folder"


@dataclass(frozen=True)
class ModelRef:
    """A model URI resolved against the store.

    ``load_uri`` is what to load: an alias is replaced by its version, so a job
    keeps using one version even if the alias moves while it runs.
    """

    uri: str
    load_uri: str
    name: str | None = None
    version: str | None = None
    run_id: str | None = None
    alias: str | None = None

    def to_dict(self) -> dict:
        return asdict(self)

    @property
    def label(self) -> str:
        """Short human name: ``NAME v2 (@champion)`` or the URI."""
        if self.name and self.version:
            return f"{self.name} v{self.version}" + (f" (@{self.alias})" if self.alias else "")
        return self.uri


def _client(tracking_uri: str | None):
    import mlflow

    return mlflow.MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)


def _not_found(exc: Exception) -> bool:
    return getattr(exc, "error_code", "") == "RESOURCE_DOES_NOT_EXIST"


def _versions(client, name: str) -> list[str]:
    found = client.search_model_versions(f"name='{name}'")
    return sorted((str(mv.version) for mv in found), key=int)


def _registered(client, name: str, uri: str):
    from mlflow.exceptions import MlflowException

    try:
        return client.get_registered_model(name)
    except MlflowException as exc:
        if _not_found(exc):
            raise InputError(
                f"model URI {uri!r}: no registered model named {name!r} in this store"
            ) from None
        raise InputError(
            f"model URI {uri!r}: cannot read the model registry: {_first_line(exc)}"
        ) from None


def _aliases(registered) -> dict[str, str]:
    aliases = registered.aliases
    if isinstance(aliases, dict):
        return {str(k): str(v) for k, v in aliases.items()}
    return {a.alias: str(a.version) for a in aliases}  # older client objects


def _by_alias(client, uri: str, name: str, alias: str) -> ModelRef:
    registered = _registered(client, name, uri)
    aliases = _aliases(registered)
    if alias not in aliases:
        known = ", ".join(f"@{a} (v{v})" for a, v in sorted(aliases.items())) or "none"
        raise InputError(
            f"model URI {uri!r}: registered model {name!r} has no alias {alias!r} (aliases: {known})"
        )
    mv = client.get_model_version(name, aliases[alias])
    return ModelRef(uri, f"models:/{name}/{mv.version}", name, str(mv.version), mv.run_id, alias)


def _by_version(client, uri: str, name: str, version: str) -> ModelRef:
    from mlflow.exceptions import MlflowException

    registered = _registered(client, name, uri)
    if version == "latest":
        versions = _versions(client, name)
        if not versions:
            raise InputError(f"model URI {uri!r}: registered model {name!r} has no versions")
        version = versions[-1]
    try:
        mv = client.get_model_version(name, version)
    except MlflowException as exc:
        if not _not_found(exc):
            raise InputError(f"model URI {uri!r}: {_first_line(exc)}") from None
        raise InputError(
            f"model URI {uri!r}: registered model {name!r} has no version {version} "
            f"(versions: {', '.join(_versions(client, name)) or 'none'})"
        ) from None
    aliases = sorted(a for a, v in _aliases(registered).items() if v == str(mv.version))
    return ModelRef(
        uri,
        f"models:/{name}/{mv.version}",
        name,
        str(mv.version),
        mv.run_id,
        ",".join(aliases) or None,
    )


def _registered_version_of_run(client, run_id: str) -> tuple[str | None, str | None]:
    try:
        found = client.search_model_versions(f"run_id='{run_id}'")
    except Exception:  # a registry that cannot filter by run: lineage just has no name
        return None, None
    if len(found) == 1:
        return found[0].name, str(found[0].version)
    return None, None


def _by_run(client, uri: str) -> ModelRef:
    from mlflow.exceptions import MlflowException

    parts = uri[len("runs:/") :].strip("/").split("/", 1)
    if len(parts) != 2 or not parts[0] or not parts[1]:
        raise InputError(f"model URI {uri!r}: expected runs:/RUN_ID/PATH")
    run_id = parts[0]
    try:
        client.get_run(run_id)
    except MlflowException as exc:
        if _not_found(exc):
            raise InputError(f"model URI {uri!r}: no run {run_id!r} in this store") from None
        raise InputError(f"model URI {uri!r}: {_first_line(exc)}") from None
    name, version = _registered_version_of_run(client, run_id)
    return ModelRef(uri, uri, name, version, run_id, None)


def _by_logged_model(client, uri: str, model_id: str) -> ModelRef:
    from mlflow.exceptions import MlflowException

    try:
        logged = client.get_logged_model(model_id)
    except MlflowException as exc:
        if _not_found(exc):
            raise InputError(
                f"model URI {uri!r}: no logged model {model_id!r} in this store"
            ) from None
        raise InputError(f"model URI {uri!r}: {_first_line(exc)}") from None
    run_id = logged.source_run_id
    name, version = _registered_version_of_run(client, run_id) if run_id else (None, None)
    return ModelRef(uri, uri, name or logged.name, version, run_id, None)


def _local_folder(uri: str) -> Path | None:
    if uri.startswith("file:"):
        return Path(unquote(urlparse(uri).path))
    if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:/", uri):  # another scheme: not a local path
        return None
    return Path(uri).expanduser()


def _by_path(uri: str, folder: Path) -> ModelRef:
    if not folder.exists():
        raise InputError(f"model URI {uri!r}: no such model folder (expected {_FORMS})")
    if not (folder / MLMODEL).is_file():
        raise InputError(
            f"model URI {uri!r}: {folder} has no {MLMODEL} file, so it is not an MLflow model"
        )
    import yaml

    try:
        mlmodel = yaml.safe_load((folder / MLMODEL).read_text()) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise InputError(
            f"model URI {uri!r}: cannot read {folder / MLMODEL}: {_first_line(exc)}"
        ) from None
    return ModelRef(uri, str(folder.resolve()), None, None, mlmodel.get("run_id"), None)


def resolve_model(uri: str, tracking_uri: str | None = None) -> ModelRef:
    """Resolve ``uri`` against the store at ``tracking_uri`` (default: MLflow's current one).

    Raises:
        InputError: one line naming the URI and what the store has instead.
    """
    uri = (uri or "").strip()
    if not uri:
        raise InputError(f"model URI is empty (expected {_FORMS})")
    if uri.startswith("models:/"):
        rest = uri[len("models:/") :].strip("/")
        client = _client(tracking_uri)
        if "@" in rest:
            name, alias = rest.rsplit("@", 1)
            if name and alias and "/" not in alias:
                return _by_alias(client, uri, name, alias)
        elif "/" in rest:
            name, version = rest.rsplit("/", 1)
            if name and (version.isdigit() or version == "latest"):
                return _by_version(client, uri, name, version)
        elif rest.startswith("m-"):
            return _by_logged_model(client, uri, rest)
        raise InputError(f"model URI {uri!r}: expected models:/NAME@ALIAS or models:/NAME/VERSION")
    if uri.startswith("runs:/"):
        return _by_run(_client(tracking_uri), uri)
    folder = _local_folder(uri)
    if folder is None:
        raise InputError(f"model URI {uri!r}: unsupported scheme (expected {_FORMS})")
    return _by_path(uri, folder)


def fetch_model(ref: ModelRef, destination: Path) -> Path:
    """A local folder with the model's files: the folder itself for local models, else a download."""
    local = Path(ref.load_uri)
    if local.is_dir():
        return local
    import mlflow

    destination.mkdir(parents=True, exist_ok=True)
    try:
        path = mlflow.artifacts.download_artifacts(
            artifact_uri=ref.load_uri, dst_path=str(destination)
        )
    except Exception as exc:  # MlflowException, OSError: the files are not where the store says
        raise InputError(
            f"model URI {ref.uri!r}: cannot download the model: {_first_line(exc)}"
        ) from None
    path = Path(path)
    if not (path / MLMODEL).is_file():
        raise InputError(
            f"model URI {ref.uri!r}: the downloaded files have no {MLMODEL}, so it is not an MLflow model"
        )
    return path
