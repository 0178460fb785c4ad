"""The product's full-sequence GRU layer: `GRUCell` over time, with a faster kernel.

`GRU` is a `keras.layers.RNN` around `GRUCell`, so masking, `return_sequences`, `return_state`,
`go_backwards`, `stateful` and initial states behave exactly as in `keras.layers.GRU`, and the
weights (owned by the cell) have the same names, shapes and order. What differs is the inner
loop: with the TensorFlow backend and the default activations it runs one of the kernels in
`forecasting.layers.gru_kernels` instead of calling the cell step by step.
"""

from __future__ import annotations

import logging

import keras
from keras import activations, constraints, initializers, ops, regularizers

from forecasting.layers.gru_cell import GRUCell, validate_gru_arguments

__all__ = ["GRU", "IMPLEMENTATIONS"]

log = logging.getLogger(__name__)

# "auto" picks the fastest kernel that keeps parity with keras.layers.GRU (see
# docs/gru_benchmark.md); "cell" is the plain keras.layers.RNN(GRUCell) loop.
IMPLEMENTATIONS = ("auto", "bptt", "bptt_graph", "autodiff", "cell")


@keras.saving.register_keras_serializable(package="forecasting", name="GRU")
class GRU(keras.layers.RNN):
    """Gated recurrent unit over whole sequences, with a fast TensorFlow kernel.

    The equations are those of `forecasting.layers.GRUCell`. With the TensorFlow backend,
    the default activations and no mask, the layer runs one of the lean full-sequence kernels
    of `forecasting.layers.gru_kernels` (an XLA-compiled loop with a hand-written backward
    pass through time, or a graph loop differentiated by TensorFlow, whichever was measured
    faster for the state size and for training or inference). Otherwise (a mask, `return_gates=True`, other activations,
    recurrent dropout while training, another backend, or `implementation="cell"`) it runs the
    generic `keras.layers.RNN(GRUCell)` loop, which gives the same results.

    Args:
        units: Positive integer, dimensionality of the state and of the output (H).
        activation: Activation of the candidate state. Default: `"tanh"`.
        recurrent_activation: Activation of the gates. Default: `"sigmoid"`.
        use_bias: Whether the layer uses bias vectors. Default: `True`.
        kernel_initializer: Initializer of the input kernel [D, 3H].
        recurrent_initializer: Initializer of the recurrent kernel [H, 3H].
        bias_initializer: Initializer of the bias.
        kernel_regularizer: Optional regularizer of the input kernel.
        recurrent_regularizer: Optional regularizer of the recurrent kernel.
        bias_regularizer: Optional regularizer of the bias.
        activity_regularizer: Optional regularizer of the layer's output.
        kernel_constraint: Optional constraint on the input kernel.
        recurrent_constraint: Optional constraint on the recurrent kernel.
        bias_constraint: Optional constraint on the bias.
        dropout: Float in [0, 1): fraction of the input units dropped while training (one mask
            per sequence, reused at every step). Supported by the fast kernel.
        recurrent_dropout: Float in [0, 1): fraction of the previous state dropped before the
            recurrent matmul while training (runs the generic cell loop).
        seed: Random seed for dropout.
        return_sequences: Whether to return the output of every step [B, T, H] or only the
            last one [B, H]. Default: `False`.
        return_state: Whether to return the last state in addition to the output.
        go_backwards: If `True`, process the sequence backwards and return the reversed
            sequence.
        stateful: If `True`, the last state of each batch is the initial state of the next.
        unroll: Only used by the generic cell loop (see `keras.layers.RNN`).
        reset_after: Candidate-state convention, see `GRUCell`. Default: `True`.
        return_gates: If `True`, the output is `concat([h, z, r], -1)` (3H features) for
            inspection; the state stays `h`. Runs the generic cell loop.
        implementation: `"auto"` (the fastest kernel, see
            `gru_kernels.fastest_kernel`; default), `"bptt"` (lean loops with a
            hand-written backward pass through time, compiled with XLA), `"bptt_graph"` (the
            same without XLA), `"autodiff"` (the lean forward loop, differentiated by
            TensorFlow) or `"cell"` (the plain `keras.layers.RNN(GRUCell)` loop).
        **kwargs: Base layer keyword arguments, such as `name` and `dtype`.

    Call arguments:
        sequences: A 3D tensor [B, T, D].
        initial_state: Optional list with one tensor [B, H], the initial state.
        mask: Optional boolean tensor [B, T]; masked steps carry the state through unchanged.
        training: Python boolean, whether dropout is applied.

    Returns:
        [B, T, H] if `return_sequences` else [B, H] (3H instead of H with `return_gates`),
        followed by the last state [B, H] if `return_state`.

    Example:

    >>> x = np.random.random((32, 10, 8)).astype("float32")
    >>> gru = GRU(4, return_sequences=True, return_state=True)
    >>> outputs, state = gru(x)
    >>> print(outputs.shape, state.shape)
    (32, 10, 4) (32, 4)
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
        activity_regularizer=None,
        kernel_constraint=None,
        recurrent_constraint=None,
        bias_constraint=None,
        dropout=0.0,
        recurrent_dropout=0.0,
        seed=None,
        return_sequences=False,
        return_state=False,
        go_backwards=False,
        stateful=False,
        unroll=False,
        reset_after=True,
        return_gates=False,
        implementation="auto",
        **kwargs,
    ):
        validate_gru_arguments(
            units, dropout, recurrent_dropout, use_bias, reset_after, return_gates
        )
        if implementation not in IMPLEMENTATIONS:
            raise ValueError(
                f"`implementation` must be one of {IMPLEMENTATIONS}, received: {implementation!r}"
            )
        cell = GRUCell(
            units,
            activation=activation,
            recurrent_activation=recurrent_activation,
            use_bias=use_bias,
            kernel_initializer=kernel_initializer,
            recurrent_initializer=recurrent_initializer,
            bias_initializer=bias_initializer,
            kernel_regularizer=kernel_regularizer,
            recurrent_regularizer=recurrent_regularizer,
            bias_regularizer=bias_regularizer,
            kernel_constraint=kernel_constraint,
            recurrent_constraint=recurrent_constraint,
            bias_constraint=bias_constraint,
            dropout=dropout,
            recurrent_dropout=recurrent_dropout,
            reset_after=reset_after,
            return_gates=return_gates,
            seed=seed,
            dtype=kwargs.get("dtype"),
            trainable=kwargs.get("trainable", True),
            name="gru_cell",
        )
        super().__init__(
            cell,
            return_sequences=return_sequences,
            return_state=return_state,
            go_backwards=go_backwards,
            stateful=stateful,
            unroll=unroll,
            activity_regularizer=activity_regularizer,
            **kwargs,
        )
        self.input_spec = keras.layers.InputSpec(ndim=3)
        self.implementation = implementation

    def _kernel_name(self, mask, training):
        """The fast kernel to run for this call, or None for the generic cell loop."""
        if self.implementation == "cell":
            return None
        cell = self.cell
        reasons = []
        if keras.backend.backend() != "tensorflow":
            reasons.append(f"backend {keras.backend.backend()!r}")
        if mask is not None:
            reasons.append("a mask")
        if cell.return_gates:
            reasons.append("return_gates=True")
        if cell.activation is not activations.tanh or (
            cell.recurrent_activation is not activations.sigmoid
        ):
            reasons.append("non-default activations")
        if training and cell.recurrent_dropout > 0.0:
            reasons.append("recurrent dropout")
        if reasons:
            log.debug("%s: generic cell loop because of %s", self.name, ", ".join(reasons))
            return None
        if self.implementation == "auto":
            from forecasting.layers.gru_kernels import fastest_kernel

            return fastest_kernel(cell.units, bool(training))
        return self.implementation

    def inner_loop(self, sequences, initial_state, mask, training=False):
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        kernel_name = self._kernel_name(mask, training)
        if kernel_name is None:
            return super().inner_loop(sequences, initial_state, mask=mask, training=training)

        from forecasting.layers.gru_kernels import gru_sequence  # TensorFlow-only

        h0 = initial_state[0] if isinstance(initial_state, (list, tuple)) else initial_state
        cell = self.cell
        if training and cell.dropout > 0.0:
            # The same input mask at every step, as the cell applies it: [B, D] -> [B, 1, D]
            sequences = sequences * cell.get_dropout_mask(sequences[:, 0, :])[:, None, :]
        if self.go_backwards:
            sequences = ops.flip(sequences, axis=1)
        outputs, h_last = gru_sequence(
            sequences,
            h0,
            cell.kernel,
            cell.recurrent_kernel,
            cell.bias,
            reset_after=cell.reset_after,
            kernel_name=kernel_name,
            training=bool(training),
            return_sequences=self.return_sequences,
        )
        if outputs is None:  # keras.layers.RNN reads only the last output then
            outputs = h_last[:, None, :]
        return h_last, outputs, [h_last]

    def call(self, sequences, initial_state=None, mask=None, training=False):
        return super().call(sequences, initial_state=initial_state, mask=mask, training=training)

    @property
    def units(self):
        return self.cell.units

    @property
    def reset_after(self):
        return self.cell.reset_after

    @property
    def return_gates(self):
        return self.cell.return_gates

    def get_config(self):
        cell = self.cell
        config = {
            "units": cell.units,
            "activation": activations.serialize(cell.activation),
            "recurrent_activation": activations.serialize(cell.recurrent_activation),
            "use_bias": cell.use_bias,
            "kernel_initializer": initializers.serialize(cell.kernel_initializer),
            "recurrent_initializer": initializers.serialize(cell.recurrent_initializer),
            "bias_initializer": initializers.serialize(cell.bias_initializer),
            "kernel_regularizer": regularizers.serialize(cell.kernel_regularizer),
            "recurrent_regularizer": regularizers.serialize(cell.recurrent_regularizer),
            "bias_regularizer": regularizers.serialize(cell.bias_regularizer),
            "activity_regularizer": regularizers.serialize(self.activity_regularizer),
            "kernel_constraint": constraints.serialize(cell.kernel_constraint),
            "recurrent_constraint": constraints.serialize(cell.recurrent_constraint),
            "bias_constraint": constraints.serialize(cell.bias_constraint),
            "dropout": cell.dropout,
            "recurrent_dropout": cell.recurrent_dropout,
            "seed": cell.seed,
            "reset_after": cell.reset_after,
            "return_gates": cell.return_gates,
            "implementation": self.implementation,
        }
        base_config = super().get_config()
        del base_config["cell"]
        return {**base_config, **config}

    @classmethod
    def from_config(cls, config):
        return cls(**config)
