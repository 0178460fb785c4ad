"""A skip connection that hands the network a naive forecast to correct.

The forecaster's output is ``base + correction``: the base is the seasonal-naive
(or last-value) forecast read from the scaled lookback window, and the recurrent
network learns only what the naive forecast gets wrong. The correction starts
near zero, so training begins from the baseline instead of from nothing.
"""

from __future__ import annotations

import keras
import numpy as np

SKIPS = ("seasonal", "last", "none")


@keras.saving.register_keras_serializable(package="forecasting")
class NaiveBase(keras.layers.Layer):
    """Naive forecast of the scaled target (feature 0) of the lookback window.

    Args:
        lookback: L, steps in the window.
        horizon: H, steps to forecast.
        period: season length m; 1 repeats the last value. Needs ``lookback >= period``.

    Call arguments:
        past: [B, L, F] window whose feature 0 is the scaled target.

    Returns:
        [B, H]: step h takes the value at ``h - m * ceil(h / m)`` steps after the origin.
    """

    def __init__(self, lookback: int, horizon: int, period: int = 1, **kwargs):
        super().__init__(**kwargs)
        if period <= 0 or period > lookback:
            raise ValueError(f"`period` must be in [1, lookback={lookback}], received: {period}")
        self.lookback, self.horizon, self.period = int(lookback), int(horizon), int(period)
        h = np.arange(1, horizon + 1)
        self._index = (lookback - 1 + h - period * np.ceil(h / period)).astype("int32")

    def call(self, past):
        y = past[:, :, 0]  # [B, L, F] -> [B, L]
        return keras.ops.take(y, self._index, axis=1)  # [B, L] -> [B, H]

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.horizon)

    def get_config(self):
        return super().get_config() | {
            "lookback": self.lookback,
            "horizon": self.horizon,
            "period": self.period,
        }
