"""What a packaged forecaster holds and returns: its artifact names and its output column.

A packaged forecaster is an MLflow pyfunc model whose ``python_function`` flavour lists two
artifacts: the Keras model and the state (:mod:`forecasting.packaging.state`). Its
``predict`` returns one row per series and step: the id, the time (both in the user's column
names), :data:`Y_HAT` and :data:`FORECASTER` (the family of the network, or the baseline that
forecast a series too short for the lookback).
"""

from pathlib import Path

KERAS_ARTIFACT = "keras_model"  # the Keras model, saved as ``model.keras``
STATE_ARTIFACT = (
    "preprocessing"  # the state, saved as ``preprocessing.json`` (name kept from format version 1)
)
KERAS_FILE = "model.keras"
STATE_FILE = "preprocessing.json"
Y_HAT = (
    "y_hat"  # the forecast column, in every frame a packaged forecaster or a serving engine returns
)
FORECASTER = "forecaster"  # which forecaster made each row: the family, or the fallback baseline
# A multichannel target's rows also name the target column they forecast (after the id).
TARGET_COLUMN = "target"
# A forecast file's lineage (model version, as-of time, horizon, ...) sits beside it.
LINEAGE_SUFFIX = ".lineage.json"


def interval_columns(level: int) -> tuple[str, str]:
    """The lower and upper bound columns of the ``level`` % prediction interval."""
    return f"{Y_HAT}_lo_{level}", f"{Y_HAT}_hi_{level}"


def lineage_path_for(output) -> Path:
    """The lineage sidecar of forecast file ``output``: ``<output>.lineage.json``."""
    output = Path(output)
    return output.with_name(output.name + LINEAGE_SUFFIX)
