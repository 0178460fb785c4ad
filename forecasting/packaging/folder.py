"""A packaged forecaster's folder on disk (a download or a local model): its state and Keras model.

The folder's ``MLmodel`` file lists the artifacts of the ``python_function`` flavour;
:data:`~forecasting.packaging.layout.STATE_ARTIFACT` and
:data:`~forecasting.packaging.layout.KERAS_ARTIFACT` must be among them.
"""

from __future__ import annotations

from pathlib import Path

from forecasting.errors import InputError, first_line
from forecasting.packaging.layout import KERAS_ARTIFACT, STATE_ARTIFACT
from forecasting.packaging.state import PackagedState

MLMODEL = "MLmodel"


def artifact_path(model_dir: str | Path, name: str, source: str) -> Path:
    """The file of artifact ``name`` in ``model_dir``.

    Raises:
        InputError: the folder is not a packaged forecaster (no such artifact, or its file is gone).
    """
    from mlflow.exceptions import MlflowException
    from mlflow.models import Model

    model_dir = Path(model_dir)
    try:
        flavors = Model.load(str(model_dir / MLMODEL)).flavors
    except (MlflowException, OSError, ValueError) as exc:
        raise InputError(
            f"{source}: cannot read {model_dir / MLMODEL}: {first_line(exc)}"
        ) from None
    artifacts = (flavors.get("python_function") or {}).get("artifacts") or {}
    entry = artifacts.get(name)
    if (
        not isinstance(entry, dict)
        or "path" not in entry
        or not (model_dir / entry["path"]).is_file()
    ):
        raise InputError(
            f"{source}: not a packaged forecaster (no {name!r} artifact in its {MLMODEL})"
        )
    return model_dir / entry["path"]


def read_state(model_dir: str | Path, source: str) -> PackagedState:
    """The state of the packaged forecaster in ``model_dir``; ``source`` names it in errors."""
    path = artifact_path(model_dir, STATE_ARTIFACT, source)
    return PackagedState.load(path, f"{source}: {path.name}")


def keras_path(model_dir: str | Path, source: str) -> Path:
    return artifact_path(model_dir, KERAS_ARTIFACT, source)


def load_keras(path: str | Path, source: str | None = None):
    """The packaged Keras model (uncompiled), with the product's custom layers registered.

    Raises:
        InputError: a corrupt or foreign ``.keras`` file.
    """
    import keras

    import forecasting.layers  # noqa: F401  registers the custom layers for loading
    import forecasting.models.instance_norm  # noqa: F401
    import forecasting.models.segment  # noqa: F401
    import forecasting.models.skip  # noqa: F401

    path = Path(path)
    try:
        return keras.saving.load_model(path, compile=False)
    except Exception as exc:  # keras raises ValueError, OSError, zipfile errors...
        raise InputError(f"{source or path}: cannot load {path.name}: {first_line(exc)}") from None
