"""The packaged forecaster as an MLflow pyfunc: raw long-format history in, the next H steps out.

The state (:mod:`forecasting.packaging.state`) and the Keras model travel together as an
``mlflow.pyfunc.PythonModel``; the ``forecasting`` package itself ships inside the model
(``code_paths``), so it loads in a fresh process, in ``mlflow models predict`` and in Spark UDFs.
"""

from __future__ import annotations

import mlflow
import numpy as np
import pandas as pd

from forecasting.packaging.layout import (
    FORECASTER,
    KERAS_ARTIFACT,
    STATE_ARTIFACT,
    TARGET_COLUMN,
    Y_HAT,
)


class ForecasterModel(mlflow.pyfunc.PythonModel):
    """Forecast the next ``horizon`` steps of every series in the input frame.

    Input: long format with the training file's column names (id, time, target and
    the covariates it was trained with); at least ``lookback`` points per series, or fewer
    when the model names a fallback baseline, which then forecasts that series.
    Output: one row per series and step: id (then, for a multichannel target, the ``target``
    column each row forecasts), time, ``y_hat``, the prediction intervals
    ``y_hat_lo_<p>`` / ``y_hat_hi_<p>`` of each level ``p`` (the ``levels`` parameter, a list of
    integer percentages; default the state's, e.g. 80 and 95) and ``forecaster`` (the family,
    or the baseline that forecast a short series). A model whose state predates intervals
    (format version 1 or 2) returns no interval columns.
    """

    def load_context(self, context) -> None:
        from forecasting.packaging.folder import load_keras
        from forecasting.packaging.state import PackagedState

        self.state = PackagedState.load(context.artifacts[STATE_ARTIFACT])
        self.scalers = self.state.fitted_scalers()
        self.model = (
            None if self.state.is_baseline else load_keras(context.artifacts[KERAS_ARTIFACT])
        )

    def predict(
        self, context, model_input: pd.DataFrame, params: dict | None = None
    ) -> pd.DataFrame:
        from forecasting.data import ID, TARGET, load_series
        from forecasting.packaging.fallback import baseline_forecasts, split_short
        from forecasting.packaging.intervals import (
            PARAM,
            bound_columns,
            fallback_scale,
            network_scales,
            requested_levels,
        )
        from forecasting.windowing.inference import latest_windows
        from forecasting.windowing.scaling import fit_scaler

        state = self.state
        levels = requested_levels(state, (params or {}).get(PARAM), strict=False)
        columns = state.model_columns
        frame = pd.DataFrame(model_input)
        data = load_series(frame, columns, freq=state.freq, fill=state.fill, name="model input")
        parents, channels = data.parents, data.channels

        def keys(uid: str) -> dict:
            """The id (and target column) of a series' rows, in the user's names."""
            if not channels:
                return {columns.id: uid}
            return {columns.id: parents[uid], TARGET_COLUMN: channels[uid]}

        data, short = split_short(data, state)
        parts = {}
        if data is not None:
            latest = latest_windows(
                data, state.lookback, state.horizon, self.scalers, state.channels
            )
            scaled = predict_fixed_batches(self.model, latest.inputs)  # [S, H]
            stds = np.array([scaler.scale_[0] for scaler in latest.scalers])
            scales = network_scales(latest.inputs["past"], stds, state) if levels else stds
            for row, (uid, scaler, times) in enumerate(
                zip(latest.ids, latest.scalers, latest.future_times, strict=True)
            ):
                y_hat = scaled[row] * scaler.scale_[0] + scaler.mean_[0]
                bands = (
                    bound_columns(y_hat, scales[row], state.intervals.network, levels)
                    if levels
                    else {}
                )
                parts[uid] = pd.DataFrame(
                    keys(uid)
                    | {columns.time: times, Y_HAT: y_hat}
                    | bands
                    | {FORECASTER: state.family}
                )
        history = (
            {str(k): v for k, v in short.frame.groupby(ID, sort=False)} if short is not None else {}
        )
        for uid, (times, y_hat) in baseline_forecasts(short, state).items():
            bands = {}
            if levels:
                y = history[uid][TARGET].to_numpy(dtype=np.float64)
                scaler = self.scalers.get(uid)  # a left-out or new series: its own history's
                std = (scaler if scaler is not None else fit_scaler(y[:, None])).scale_[0]
                scale = fallback_scale(y, std, state)
                bands = bound_columns(y_hat, scale, state.intervals.fallback, levels)
            parts[uid] = pd.DataFrame(
                keys(uid)
                | {columns.time: times, Y_HAT: y_hat}
                | bands
                | {FORECASTER: state.fallback}
            )
        return pd.concat(
            [parts[u] for u in input_order(frame, columns) if u in parts], ignore_index=True
        )


def input_order(frame: pd.DataFrame, columns) -> list[str]:
    """The series ids of ``frame`` in the input's order (for a multichannel target: each id's
    columns in the order they are named)."""
    from forecasting.data.schema import SINGLE_SERIES_ID, channel_id

    ids = (
        pd.unique(frame[columns.id].astype(str).str.strip())
        if columns.id in frame.columns
        else [SINGLE_SERIES_ID]
    )
    if not columns.multichannel:
        return list(ids)
    return [channel_id(uid, column) for uid in ids for column in columns.targets]


def output_ids(forecast: pd.DataFrame, columns) -> np.ndarray:
    """The series id of each row of a forecast, as the windows name it (for a multichannel
    target: the id and the ``target`` column joined by :func:`~forecasting.data.schema.channel_id`)."""
    from forecasting.data.schema import channel_id

    ids = forecast[columns.id].astype(str).to_numpy()
    if TARGET_COLUMN not in forecast.columns:
        return ids
    targets = forecast[TARGET_COLUMN].astype(str).to_numpy()
    return np.array([channel_id(u, t) for u, t in zip(ids, targets, strict=True)], dtype=object)


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
            chunk = values[start : start + batch_size]
            pad = batch_size - len(chunk)
            batch[key] = (
                np.concatenate([chunk, np.zeros((pad, *chunk.shape[1:]), chunk.dtype)])
                if pad
                else chunk
            )
        parts.append(np.asarray(model.predict_on_batch(batch))[: min(batch_size, n - start)])
    return np.concatenate(parts)
