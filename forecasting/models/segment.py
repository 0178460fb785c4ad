"""The segment-recurrent core: one recurrent layer over segments of the lookback, and all
output segments decoded in parallel (the idea of SegRNN, Lin et al., arXiv 2308.11200).

A pointwise RNN runs L steps over the lookback and must carry a long horizon through one
state. Here the lookback is cut into L/w segments of w steps, each projected to ``units`` by
one dense layer, so the recurrence runs L/w steps instead of L. To decode, the final state goes
through the *same* recurrent layer once more, with a learnable embedding of each output
segment's position (plus the known calendar of its w steps) as input; all ceil(H/w) output
segments are one batch, and each state is projected to w values. No recurrence over the
horizon: errors do not accumulate step after step, and the decoder costs one step.
"""

from __future__ import annotations

import math

import keras
from keras import ops


def recurrent_layer(
    cell: str, units: int, gru_impl: str, name: str, **kwargs
) -> keras.layers.Layer:
    """The recurrent layer of a family: our GRU (or Keras's, or our cell in `keras.layers.RNN`)
    or Keras's LSTM."""
    if cell == "lstm":
        return keras.layers.LSTM(units, name=name, **kwargs)
    if gru_impl == "keras":
        return keras.layers.GRU(units, name=name, **kwargs)
    from forecasting import layers

    if gru_impl == "cell":
        return keras.layers.RNN(layers.GRUCell(units), name=name, **kwargs)
    return layers.GRU(units, name=name, **kwargs)


def choose_segment(lookback: int, period: int) -> int:
    """Segment length for a lookback: the season when it divides the lookback into two or more
    segments, else the largest divisor of the lookback that is at most half the season (or the
    lookback's largest divisor up to a quarter of it when there is no season)."""
    if 1 < period <= lookback // 2 and lookback % period == 0:
        return period
    cap = period // 2 if period > 1 else lookback // 4
    cap = max(1, min(cap, lookback // 2))
    return max(w for w in range(1, cap + 1) if lookback % w == 0)


@keras.saving.register_keras_serializable(package="forecasting")
class SegmentRecurrent(keras.layers.Layer):
    """Segment encoder and parallel segment decoder around one recurrent layer.

    Args:
        cell: ``"gru"`` or ``"lstm"``.
        units: width of the segment embeddings and of the recurrent state.
        segment: w, steps per segment. The oldest ``L mod w`` steps of the lookback are not read.
        horizon: H, steps to forecast.
        gru_impl: ``"custom"`` (our `forecasting.layers.GRU`), ``"cell"`` or ``"keras"``.
        dropout: dropout rate before the output projection (training only).
        past_features: how many leading features of ``past`` the encoder reads (the target and
            the past covariates; the calendar of the past is left out). ``None``: all.
        known_features: indices of the ``future`` features the decoder reads. ``None``: all.
        n_channels: for a multichannel target (a fixed set of target columns, each read as
            its own series), how many channels: each gets a learnable embedding that joins the
            decoder's position embedding, so one network can tell the columns apart while
            never depending on series identity. 0: one target, no channel embedding.

    Call arguments:
        inputs: ``[past, future]``, or ``[past, future, channel]`` with ``n_channels``:
            past [B, L, F] (normalised target first), future [B, H, K] calendar features of
            the target steps (K may be 0), channel [B] integer index of each window's column.
        training: whether dropout is applied.

    Returns:
        [B, H]: the forecast in the units of the normalised target. The output projection
        starts at zero, so an untrained layer returns zeros.

    Example:
        >>> core = SegmentRecurrent("gru", units=16, segment=24, horizon=48)
        >>> core([np.zeros((2, 96, 3), "float32"), np.zeros((2, 48, 2), "float32")]).shape
        TensorShape([2, 48])
    """

    def __init__(
        self,
        cell: str,
        units: int,
        segment: int,
        horizon: int,
        gru_impl: str = "custom",
        dropout: float = 0.0,
        past_features: int | None = None,
        known_features: list[int] | None = None,
        n_channels: int = 0,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if cell not in ("gru", "lstm"):
            raise ValueError(f"`cell` must be 'gru' or 'lstm', received: {cell!r}")
        for arg, value in (("units", units), ("segment", segment), ("horizon", horizon)):
            if not isinstance(value, int) or value <= 0:
                raise ValueError(f"`{arg}` must be a positive integer, received: {value!r}")
        if not isinstance(n_channels, int) or n_channels < 0:
            raise ValueError(
                f"`n_channels` must be a non-negative integer, received: {n_channels!r}"
            )
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"`dropout` must be in [0, 1), received: {dropout}")
        self.cell, self.units, self.segment, self.horizon = cell, units, segment, horizon
        self.gru_impl, self.dropout_rate = gru_impl, float(dropout)
        self.past_features = past_features
        self.known_features = None if known_features is None else [int(i) for i in known_features]
        self.n_channels = n_channels
        self.n_out = math.ceil(horizon / segment)
        self.embed = keras.layers.Dense(units, activation="relu", name="segment_embedding")
        self.rnn = recurrent_layer(cell, units, gru_impl, name=f"{cell}_0", return_state=True)
        self.known = keras.layers.Dense(units, use_bias=False, name="known_future")
        self.dropout = keras.layers.Dropout(dropout, name="dropout")
        self.head = keras.layers.Dense(segment, kernel_initializer="zeros", name="segment_output")
        self.channel_embedding = (
            keras.layers.Embedding(
                n_channels,
                units,
                embeddings_initializer=keras.initializers.RandomNormal(stddev=1.0),
                name="channel_embedding",
            )
            if n_channels
            else None
        )

    def build(self, input_shape):
        past_shape, future_shape = input_shape[:2]
        lookback = past_shape[1]
        n_features = self.past_features or past_shape[2]
        self.n_in = lookback // self.segment
        if self.n_in == 0:
            raise ValueError(
                f"lookback {lookback} is shorter than one segment ({self.segment} steps)"
            )
        self.n_known = future_shape[2] if self.known_features is None else len(self.known_features)
        self.position = self.add_weight(
            name="position",
            shape=(self.n_out, self.units),
            initializer=keras.initializers.RandomNormal(stddev=1.0),
        )
        self.embed.build((None, self.n_in, self.segment * n_features))
        self.rnn.build((None, self.n_in, self.units))
        if self.n_known:
            self.known.build((None, self.n_out, self.segment * self.n_known))
        self.head.build((None, self.units))
        if self.channel_embedding is not None:
            self.channel_embedding.build((None,))

    def _states(self, outputs):
        return list(outputs[1:])  # GRU: [h]; LSTM: [h, c]

    def encoder_inputs(self, past):
        """The sequence the recurrent layer reads: past [B, L, F] -> segment embeddings [B, L/w, U]."""
        w = self.segment
        F = self.past_features or past.shape[2]
        x = past[
            :, past.shape[1] - self.n_in * w :, :F
        ]  # the newest n_in * w steps, [B, n_in*w, F]
        x = ops.reshape(x, (-1, self.n_in, w * F))  # -> [B, n_in, w*F]
        return self.embed(x)  # -> [B, n_in, U]

    def call(self, inputs, training=False):
        past, future = inputs[:2]
        U, n_out, w = self.units, self.n_out, self.segment
        states = self._states(self.rnn(self.encoder_inputs(past), training=training))  # each [B, U]
        # One decoder input per output segment: its position embedding plus its known calendar.
        query = ops.broadcast_to(
            self.position[None], (ops.shape(past)[0], n_out, U)
        )  # [B, n_out, U]
        if self.n_known:
            pad = n_out * w - self.horizon
            if self.known_features is not None:
                future = ops.take(future, self.known_features, axis=2)  # [B, H, K] -> [B, H, K']
            known = ops.pad(future, [[0, 0], [0, pad], [0, 0]])  # [B, H, K] -> [B, n_out*w, K]
            query = query + self.known(ops.reshape(known, (-1, n_out, w * self.n_known)))
        if self.channel_embedding is not None:
            channel = ops.reshape(ops.cast(inputs[2], "int32"), (-1,))  # [B]
            query = query + self.channel_embedding(channel)[:, None, :]  # + [B, 1, U]
        query = ops.reshape(query, (-1, 1, U))  # [B, n_out, U] -> [B*n_out, 1, U]
        # Every output segment starts from the encoder's final state: [B, U] -> [B*n_out, U]
        start = [ops.reshape(ops.repeat(s[:, None, :], n_out, axis=1), (-1, U)) for s in states]
        decoded = self._states(self.rnn(query, initial_state=start, training=training))[
            0
        ]  # [B*n_out, U]
        y = self.head(self.dropout(decoded, training=training))  # [B*n_out, U] -> [B*n_out, w]
        return ops.reshape(y, (-1, n_out * w))[:, : self.horizon]  # -> [B, H]

    def compute_output_shape(self, input_shape):
        return (input_shape[0][0], self.horizon)

    def get_config(self):
        return super().get_config() | {
            "cell": self.cell,
            "units": self.units,
            "segment": self.segment,
            "horizon": self.horizon,
            "gru_impl": self.gru_impl,
            "dropout": self.dropout_rate,
            "past_features": self.past_features,
            "known_features": self.known_features,
            "n_channels": self.n_channels,
        }
