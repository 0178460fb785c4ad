"""Log a trained forecaster to the active MLflow run as a packaged pyfunc model."""

from __future__ import annotations

import tempfile
from pathlib import Path

import mlflow
import pandas as pd

from forecasting.packaging.history import user_frame
from forecasting.packaging.intervals import PARAM
from forecasting.packaging.layout import KERAS_ARTIFACT, KERAS_FILE, STATE_ARTIFACT, STATE_FILE
from forecasting.packaging.pyfunc import ForecasterModel
from forecasting.packaging.state import IntervalState, PackagedState

ENTRY = Path(__file__).with_name("entry.py")
PACKAGE_DIR = (
    Path(__file__).resolve().parents[1]
)  # the whole `forecasting` package ships with the model


def example_input(data, lookback: int, n_series: int = 2) -> pd.DataFrame:
    """The last ``lookback`` points of a few series, with the user's column names."""
    from forecasting.data import ID

    frame = data.frame[data.frame[ID].isin(data.ids[:n_series])]
    return user_frame(data, frame.groupby(ID, sort=False).tail(lookback))


def log_forecaster(
    keras_model, data, windowed, family: str, gru_impl: str, name: str = "forecaster", **state
):
    """Log the packaged forecaster to the active run; returns MLflow's ``ModelInfo``.

    ``state``: the other fields of :meth:`PackagedState.from_training` (arch, period, fallback,
    left_out, intervals). With intervals, the signature lists the pyfunc parameter ``levels``
    (default: the state's levels), so ``mlflow models predict`` and Spark can ask for others.
    """
    with tempfile.TemporaryDirectory() as tmp:
        artifacts = {
            KERAS_ARTIFACT: str(Path(tmp) / KERAS_FILE),
            STATE_ARTIFACT: str(Path(tmp) / STATE_FILE),
        }
        keras_model.save(artifacts[KERAS_ARTIFACT])
        PackagedState.from_training(data, windowed, family, gru_impl, **state).save(
            artifacts[STATE_ARTIFACT]
        )
        return _log(
            artifacts,
            example_input(data, windowed.spec.lookback),
            name,
            state.get("intervals"),
        )


def log_baseline(
    data,
    baseline: str,
    lookback: int,
    horizon: int,
    period: int,
    name: str = "forecaster",
    intervals: IntervalState | None = None,
):
    """Log ``baseline`` (``naive`` or ``seasonal_naive``) as a packaged forecaster of ``data``'s
    columns: the same pyfunc, input and output (intervals too) as a network's, without weights."""
    with tempfile.TemporaryDirectory() as tmp:
        state = PackagedState.for_baseline(data, baseline, lookback, horizon, period, intervals)
        artifacts = {STATE_ARTIFACT: str(state.save(Path(tmp) / STATE_FILE))}
        return _log(artifacts, example_input(data, lookback), name, intervals)


def _log(
    artifacts: dict[str, str],
    example: pd.DataFrame,
    name: str,
    intervals: IntervalState | None = None,
):
    from mlflow.models import infer_signature

    packaged = ForecasterModel()
    packaged.load_context(_Context(artifacts))
    output = packaged.predict(None, example)  # also proves the saved artifacts reload
    signature = infer_signature(example, output)
    if intervals is not None:  # a list of integers, default the state's (possibly none)
        from mlflow.types import DataType
        from mlflow.types.schema import ParamSchema, ParamSpec

        default = list(intervals.levels)
        signature.params = ParamSchema([ParamSpec(PARAM, DataType.long, default, (-1,))])
    return mlflow.pyfunc.log_model(
        name=name,
        python_model=str(ENTRY),
        artifacts=artifacts,
        code_paths=[str(PACKAGE_DIR)],
        signature=signature,
        input_example=example,
        pip_requirements=_requirements(),
    )


class _Context:
    def __init__(self, artifacts: dict[str, str]):
        self.artifacts = artifacts


def _requirements() -> list[str]:
    """The packages a fresh environment needs to load the model, at the versions in use."""
    from importlib.metadata import version

    names = ["mlflow", "tensorflow", "keras", "pandas", "numpy", "scikit-learn", "pyarrow"]
    return [f"{n}=={version(n)}" for n in names]
