"""The packaged forecaster: raw long-format history in, the next H steps per series out.

Scalers, windowing and the Keras model travel together as an
``mlflow.pyfunc.PythonModel``; the ``forecasting`` package itself ships inside the
model (``code_paths``), so it loads in a fresh process, in ``mlflow models
predict`` and in Spark UDFs.
"""

from __future__ import annotations

import json
import logging
import tempfile
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd

log = logging.getLogger(__name__)

KERAS_ARTIFACT = "keras_model"
PREPROCESSING_ARTIFACT = "preprocessing"
Y_HAT = "y_hat"
PACKAGE_DIR = Path(__file__).resolve().parents[1]


class ForecasterModel(mlflow.pyfunc.PythonModel):
    """Forecast the next ``horizon`` steps of every series in the input frame.

    Input: long format with the training file's column names (id, time, target and
    the covariates it was trained with); at least ``lookback`` points per series.
    Output: one row per series and step: id, time, ``y_hat``.
    """

    def load_context(self, context) -> None:
        import keras

        import forecasting.layers  # noqa: F401  registers the custom layers for loading
        import forecasting.models.skip  # noqa: F401
        from forecasting.windowing.scaling import scaler_from_dict

        self.meta = json.loads(Path(context.artifacts[PREPROCESSING_ARTIFACT]).read_text())
        self.scalers = {uid: scaler_from_dict(s) for uid, s in self.meta["scalers"].items()}
        self.model = keras.saving.load_model(context.artifacts[KERAS_ARTIFACT], compile=False)

    def predict(self, context, model_input: pd.DataFrame, params: dict | None = None) -> pd.DataFrame:
        from forecasting.data import Columns, load_series
        from forecasting.windowing.inference import latest_windows

        meta = self.meta
        columns = Columns.from_dict(meta["columns"])
        columns = Columns(columns.id, columns.time, columns.target, tuple(meta["covariates"]))
        frame = pd.DataFrame(model_input)
        data = load_series(frame, columns, freq=meta["freq"], fill=meta["fill"], name="model input")
        latest = latest_windows(data, meta["lookback"], meta["horizon"], self.scalers)
        scaled = predict_fixed_batches(self.model, latest.inputs)  # [S, H]
        parts = []
        for row, (uid, scaler, times) in enumerate(zip(latest.ids, latest.scalers, latest.future_times, strict=True)):
            y_hat = scaled[row] * scaler.scale_[0] + scaler.mean_[0]
            parts.append(pd.DataFrame({columns.id: uid, columns.time: times, Y_HAT: y_hat}))
        return pd.concat(parts, ignore_index=True)


def predict_fixed_batches(model, inputs: dict[str, np.ndarray], batch_size: int = 32) -> np.ndarray:
    """Predict in batches of exactly ``batch_size`` rows (the last one zero-padded).

    CPU kernels round differently for different batch shapes, so a series would get
    slightly different numbers alone (a Spark group) than among others (one local call).
    With one batch shape every row's forecast depends on that row only.
    """
    n = len(next(iter(inputs.values())))
    parts = []
    for start in range(0, n, batch_size):
        batch = {}
        for key, values in inputs.items():
            chunk = values[start:start + batch_size]
            pad = batch_size - len(chunk)
            batch[key] = np.concatenate([chunk, np.zeros((pad, *chunk.shape[1:]), chunk.dtype)]) if pad else chunk
        parts.append(np.asarray(model.predict_on_batch(batch))[: min(batch_size, n - start)])
    return np.concatenate(parts)


def preprocessing_state(data, windowed, family: str, gru_impl: str) -> dict:
    """Everything besides the Keras weights that a forecast needs."""
    from forecasting.windowing.scaling import scaler_to_dict

    return {
        "family": family,
        "gru_impl": gru_impl,
        "columns": data.columns.to_dict(),
        "covariates": list(data.covariates),
        "freq": data.freq,
        "fill": data.fill.value,
        "lookback": windowed.spec.lookback,
        "horizon": windowed.spec.horizon,
        "calendar": windowed.calendar_names,
        "scalers": {s.uid: scaler_to_dict(s.scaler) for s in windowed.series},
    }


def example_input(data, lookback: int, n_series: int = 2) -> pd.DataFrame:
    """The last ``lookback`` points of a few series, with the user's column names."""
    from forecasting.data import ID, TARGET, TIME

    cols = data.columns
    frame = data.frame[data.frame[ID].isin(data.ids[:n_series])]
    frame = frame.groupby(ID, sort=False).tail(lookback)
    out = pd.DataFrame({cols.id: frame[ID].astype(str), cols.time: frame[TIME], cols.target: frame[TARGET]})
    for c in data.covariates:
        out[c] = frame[c]
    return out.reset_index(drop=True)


def log_forecaster(keras_model, data, windowed, family: str, gru_impl: str, name: str = "forecaster"):
    """Log the packaged forecaster to the active run; returns MLflow's ``ModelInfo``."""
    from mlflow.models import infer_signature

    with tempfile.TemporaryDirectory() as tmp:
        model_path = Path(tmp) / "model.keras"
        keras_model.save(model_path)
        meta_path = Path(tmp) / "preprocessing.json"
        meta_path.write_text(json.dumps(preprocessing_state(data, windowed, family, gru_impl), indent=1))
        example = example_input(data, windowed.spec.lookback)
        packaged = ForecasterModel()
        packaged.load_context(_Context({KERAS_ARTIFACT: str(model_path), PREPROCESSING_ARTIFACT: str(meta_path)}))
        output = packaged.predict(None, example)  # also proves the saved artifacts reload
        signature = infer_signature(example, output)
        return mlflow.pyfunc.log_model(
            name=name,
            python_model=str(Path(__file__).with_name("pyfunc_entry.py")),
            artifacts={KERAS_ARTIFACT: str(model_path), PREPROCESSING_ARTIFACT: str(meta_path)},
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
