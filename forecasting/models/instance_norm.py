"""Per-window instance normalisation of the target (the idea of RevIN, Kim et al., ICLR 2022).

Each input window is centred by its own last value (or mean) and divided by its own standard
deviation before the network reads it; the network's output is mapped back with the same
statistics. A level shift between training and serving, or a series at a level never seen in
training, then looks the same to the network as any other window.
"""

from __future__ import annotations

import keras
from keras import ops

CENTERS = ("last", "mean")


@keras.saving.register_keras_serializable(package="forecasting")
class InstanceNorm(keras.layers.Layer):
    """Normalise the target (feature 0) of each window by its own statistics.

    Args:
        center: ``"last"`` subtracts the window's last value, ``"mean"`` its mean.
        scale: also divide by the window's standard deviation (else centre only).
        affine: learn a scalar gain and bias applied after normalising (and undone by
            `InstanceDenorm`); they start at 1 and 0, so the layer starts as the identity map.
        epsilon: added to the window's standard deviation, so flat windows stay finite.

    Call arguments:
        past: [B, L, F] window whose feature 0 is the target; other features pass through.

    Returns:
        ``(past_norm, loc, scale)``: [B, L, F] with feature 0 normalised, and [B, 1] ``loc``,
        ``scale`` such that ``out * scale + loc`` maps a normalised forecast back (gain and
        bias included).

    Example:
        >>> past_norm, loc, scale = InstanceNorm()(np.ones((4, 24, 3), "float32"))
        >>> past_norm.shape, loc.shape
        ((4, 24, 3), (4, 1))
    """

    def __init__(
        self,
        center: str = "last",
        scale: bool = True,
        affine: bool = False,
        epsilon: float = 1e-5,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if center not in CENTERS:
            raise ValueError(f"`center` must be one of {CENTERS}, received: {center!r}")
        if not epsilon > 0:
            raise ValueError(f"`epsilon` must be positive, received: {epsilon}")
        self.center, self.scale, self.affine, self.epsilon = (
            center,
            bool(scale),
            bool(affine),
            float(epsilon),
        )

    def build(self, input_shape):
        if self.affine:
            self.gain = self.add_weight(name="gain", shape=(), initializer="ones")
            self.bias = self.add_weight(name="bias", shape=(), initializer="zeros")

    def call(self, past):
        y = past[:, :, 0]  # [B, L, F] -> [B, L]
        mean = ops.mean(y, axis=1, keepdims=True)  # [B, L] -> [B, 1]
        if self.scale:
            std = ops.sqrt(ops.mean(ops.square(y - mean), axis=1, keepdims=True)) + self.epsilon
        else:
            std = ops.ones_like(mean)
        loc = y[:, -1:] if self.center == "last" else mean
        y_norm = (y - loc) / std
        if self.affine:
            gain = self.gain + self.epsilon  # never exactly 0, so the map stays invertible
            # out = (o - bias) / gain * std + loc = o * (std / gain) + (loc - bias * std / gain)
            y_norm = y_norm * gain + self.bias
            loc, std = loc - self.bias * std / gain, std / gain
        past_norm = ops.concatenate([y_norm[:, :, None], past[:, :, 1:]], axis=-1)  # [B, L, F]
        return past_norm, loc, std

    def compute_output_shape(self, input_shape):
        return input_shape, (input_shape[0], 1), (input_shape[0], 1)

    def get_config(self):
        return super().get_config() | {
            "center": self.center,
            "scale": self.scale,
            "affine": self.affine,
            "epsilon": self.epsilon,
        }


@keras.saving.register_keras_serializable(package="forecasting")
class InstanceDenorm(keras.layers.Layer):
    """Map a normalised forecast back: ``[out [B, H], loc [B, 1], scale [B, 1]] -> [B, H]``."""

    def call(self, inputs):
        out, loc, scale = inputs
        return out * scale + loc

    def compute_output_shape(self, input_shape):
        return input_shape[0]
