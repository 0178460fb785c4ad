"""One step of the product's gated recurrent unit, written to the Keras cell contract.

The cell computes, for a batch of inputs ``x`` [B, D] and previous state ``h_tm1`` [B, H]:

    z  = σ(x W_z + h_tm1 U_z + b_z)                      update gate
    r  = σ(x W_r + h_tm1 U_r + b_r)                      reset gate
    hh = tanh(x W_h + (r ⊙ h_tm1) U_h + b_h)             candidate   (reset_after=False)
    hh = tanh(x W_h + b_xh + r ⊙ (h_tm1 U_h + b_hh))     candidate   (reset_after=True)
    h  = z ⊙ h_tm1 + (1 − z) ⊙ hh                        new state

Weights are laid out exactly as ``keras.layers.GRUCell`` lays them out (gates side by side in
z, r, h order), so ``set_weights(get_weights())`` copies between the two in both directions.
"""

from __future__ import annotations

import keras
from keras import activations, constraints, initializers, ops, regularizers

# Keras's own mixin that caches one dropout mask per sequence (the same mask at every step) and
# that `keras.layers.RNN` knows how to prepare and reset. It has no public alias in Keras 3.
from keras.src.layers.rnn.dropout_rnn_cell import DropoutRNNCell

__all__ = ["GRUCell", "validate_gru_arguments"]


def _is_positive_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def _is_rate(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and 0.0 <= value < 1.0


def validate_gru_arguments(
    units, dropout, recurrent_dropout, use_bias, reset_after, return_gates
) -> None:
    """Reject bad constructor arguments with one line saying what was received.

    Shared by `GRUCell` and `GRU` so that both fail the same way, before any weight exists.
    """
    if not _is_positive_int(units):
        raise ValueError(f"`units` must be a positive integer, received: {units!r}")
    if not _is_rate(dropout):
        raise ValueError(f"`dropout` must be a float in [0, 1), received: {dropout!r}")
    if not _is_rate(recurrent_dropout):
        raise ValueError(
            f"`recurrent_dropout` must be a float in [0, 1), received: {recurrent_dropout!r}"
        )
    for name, value in (
        ("use_bias", use_bias),
        ("reset_after", reset_after),
        ("return_gates", return_gates),
    ):
        if not isinstance(value, bool):
            raise ValueError(f"`{name}` must be True or False, received: {value!r}")


@keras.saving.register_keras_serializable(package="forecasting", name="GRUCell")
class GRUCell(keras.layers.Layer, DropoutRNNCell):
    """Cell class for the product's GRU: one time step of the gated recurrent unit.

    Use it inside `keras.layers.RNN` to process a whole sequence, or use
    `forecasting.layers.GRU`, which wraps it and adds a faster full-sequence kernel.

    Args:
        units: Positive integer, dimensionality of the state and of the output (H).
        activation: Activation of the candidate state. Default: `"tanh"`.
        recurrent_activation: Activation of the update and reset gates. Default: `"sigmoid"`.
        use_bias: Whether the cell uses bias vectors. Default: `True`.
        kernel_initializer: Initializer of the input kernel [D, 3H].
            Default: `"glorot_uniform"`.
        recurrent_initializer: Initializer of the recurrent kernel [H, 3H].
            Default: `"orthogonal"`.
        bias_initializer: Initializer of the bias. Default: `"zeros"`.
        kernel_regularizer: Optional regularizer of the input kernel.
        recurrent_regularizer: Optional regularizer of the recurrent kernel.
        bias_regularizer: Optional regularizer of the bias.
        kernel_constraint: Optional constraint on the input kernel.
        recurrent_constraint: Optional constraint on the recurrent kernel.
        bias_constraint: Optional constraint on the bias.
        dropout: Float in [0, 1): fraction of the input units dropped (one mask per
            sequence, reused at every step). Default: 0.
        recurrent_dropout: Float in [0, 1): fraction of the previous state's units dropped
            before the recurrent matmul (one mask per sequence). Default: 0.
        reset_after: `False` applies the reset gate to the previous state before the
            recurrent matmul (the textbook equations); `True` applies it after the matmul and
            keeps separate input and recurrent biases (the cuDNN/Keras convention).
            Default: `True`, as in Keras.
        return_gates: If `True`, the cell's output is `concat([h, z, r], -1)` of size 3H so
            that the gates can be inspected; the state stays `h`. Default: `False`.
        seed: Random seed for dropout.
        **kwargs: Base layer keyword arguments, such as `name` and `dtype`.

    Call arguments:
        inputs: A 2D tensor [B, D], the input at one time step.
        states: A list with one 2D tensor [B, H], the previous state `h_tm1`.
        training: Python boolean, whether dropout is applied.

    Returns:
        A tuple `(output, [h])`: `output` is `h` [B, H] (or `concat([h, z, r])` [B, 3H]
        when `return_gates=True`) and `h` is the new state [B, H].

    Example:

    >>> x = np.random.random((32, 10, 8)).astype("float32")
    >>> rnn = keras.layers.RNN(GRUCell(4), return_sequences=True)
    >>> print(rnn(x).shape)
    (32, 10, 4)
    """

    def __init__(
        self,
        units,
        activation="tanh",
        recurrent_activation="sigmoid",
        use_bias=True,
        kernel_initializer="glorot_uniform",
        recurrent_initializer="orthogonal",
        bias_initializer="zeros",
        kernel_regularizer=None,
        recurrent_regularizer=None,
        bias_regularizer=None,
        kernel_constraint=None,
        recurrent_constraint=None,
        bias_constraint=None,
        dropout=0.0,
        recurrent_dropout=0.0,
        reset_after=True,
        return_gates=False,
        seed=None,
        **kwargs,
    ):
        validate_gru_arguments(
            units, dropout, recurrent_dropout, use_bias, reset_after, return_gates
        )
        super().__init__(**kwargs)
        self.units = units
        self.activation = activations.get(activation)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.use_bias = use_bias
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.recurrent_initializer = initializers.get(recurrent_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.recurrent_regularizer = regularizers.get(recurrent_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.recurrent_constraint = constraints.get(recurrent_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.dropout = float(dropout)
        self.recurrent_dropout = float(recurrent_dropout)
        self.reset_after = reset_after
        self.return_gates = return_gates
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed=seed)
        # The RNN contract: one state tensor of size H; the output is h, or h, z, r side by side.
        self.state_size = units
        self.output_size = 3 * units if return_gates else units

    def build(self, input_shape):
        input_dim = input_shape[-1]
        # Gates side by side in z, r, h order, as keras.layers.GRUCell stores them.
        self.kernel = self.add_weight(
            shape=(input_dim, 3 * self.units),
            name="kernel",
            initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint,
        )
        self.recurrent_kernel = self.add_weight(
            shape=(self.units, 3 * self.units),
            name="recurrent_kernel",
            initializer=self.recurrent_initializer,
            regularizer=self.recurrent_regularizer,
            constraint=self.recurrent_constraint,
        )
        if self.use_bias:
            # reset_after=True keeps one row for the input side and one for the recurrent side.
            bias_shape = (2, 3 * self.units) if self.reset_after else (3 * self.units,)
            self.bias = self.add_weight(
                shape=bias_shape,
                name="bias",
                initializer=self.bias_initializer,
                regularizer=self.bias_regularizer,
                constraint=self.bias_constraint,
            )
        else:
            self.bias = None
        self.built = True

    def call(self, inputs, states, training=False):
        h_tm1 = states[0] if isinstance(states, (list, tuple)) else states  # [B, H]
        units = self.units

        if training and self.dropout > 0.0:
            inputs = inputs * self.get_dropout_mask(inputs)
        h_rec = h_tm1  # the previous state as the recurrent matmuls see it
        if training and self.recurrent_dropout > 0.0:
            h_rec = h_tm1 * self.get_recurrent_dropout_mask(h_tm1)

        # All three input projections at once: [B, D] @ [D, 3H] -> [B, 3H]
        x_proj = ops.matmul(inputs, self.kernel)
        input_bias = recurrent_bias = None
        if self.use_bias:
            if self.reset_after:
                input_bias, recurrent_bias = self.bias[0], self.bias[1]
            else:
                input_bias = self.bias
            x_proj = x_proj + input_bias
        x_z, x_r, x_h = ops.split(x_proj, 3, axis=-1)  # 3 x [B, H]

        if self.reset_after:
            # All three recurrent projections at once: [B, H] @ [H, 3H] -> [B, 3H]
            h_proj = ops.matmul(h_rec, self.recurrent_kernel)
            if recurrent_bias is not None:
                h_proj = h_proj + recurrent_bias
            h_z, h_r, h_h = ops.split(h_proj, 3, axis=-1)  # 3 x [B, H]
            # z = σ(x W_z + h_tm1 U_z + b_z): how much of the old state to keep
            z = self.recurrent_activation(x_z + h_z)
            # r = σ(x W_r + h_tm1 U_r + b_r): how much of the old state the candidate sees
            r = self.recurrent_activation(x_r + h_r)
            # hh = tanh(x W_h + b_xh + r ⊙ (h_tm1 U_h + b_hh)): candidate, reset after the matmul
            hh = self.activation(x_h + r * h_h)
        else:
            # Update and reset projections together: [B, H] @ [H, 2H] -> [B, 2H]
            h_zr = ops.matmul(h_rec, self.recurrent_kernel[:, : 2 * units])
            # z = σ(x W_z + h_tm1 U_z + b_z): how much of the old state to keep
            z = self.recurrent_activation(x_z + h_zr[:, :units])
            # r = σ(x W_r + h_tm1 U_r + b_r): how much of the old state the candidate sees
            r = self.recurrent_activation(x_r + h_zr[:, units:])
            # hh = tanh(x W_h + (r ⊙ h_tm1) U_h + b_h): [B, H] @ [H, H] -> [B, H]
            hh = self.activation(x_h + ops.matmul(r * h_rec, self.recurrent_kernel[:, 2 * units :]))

        # h = z ⊙ h_tm1 + (1 − z) ⊙ hh: keep the old state where z is near 1, else take hh
        h = z * h_tm1 + (1.0 - z) * hh

        output = ops.concatenate([h, z, r], axis=-1) if self.return_gates else h
        return output, [h]

    def get_initial_state(self, batch_size=None):
        return [ops.zeros((batch_size, self.units), dtype=self.compute_dtype)]

    def get_config(self):
        config = {
            "units": self.units,
            "activation": activations.serialize(self.activation),
            "recurrent_activation": activations.serialize(self.recurrent_activation),
            "use_bias": self.use_bias,
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "recurrent_initializer": initializers.serialize(self.recurrent_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
            "recurrent_regularizer": regularizers.serialize(self.recurrent_regularizer),
            "bias_regularizer": regularizers.serialize(self.bias_regularizer),
            "kernel_constraint": constraints.serialize(self.kernel_constraint),
            "recurrent_constraint": constraints.serialize(self.recurrent_constraint),
            "bias_constraint": constraints.serialize(self.bias_constraint),
            "dropout": self.dropout,
            "recurrent_dropout": self.recurrent_dropout,
            "reset_after": self.reset_after,
            "return_gates": self.return_gates,
            "seed": self.seed,
        }
        return {**super().get_config(), **config}
