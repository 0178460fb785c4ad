"""GRUCell: parity with keras.layers.GRU and with the equations, gates, config, validation."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

from forecasting.layers import GRUCell

TOL = 1e-5


def _sigmoid(a):
    return 1.0 / (1.0 + np.exp(-a))


def numpy_gru(x, kernel, recurrent_kernel, bias, reset_after, h0=None):
    """The product's GRU equations transcribed in NumPy, one step at a time.

    x [B, T, D]; weights in Keras's layout (gates side by side in z, r, h order).
    Returns the states of every step [B, T, H].
    """
    batch, steps, _ = x.shape
    units = recurrent_kernel.shape[0]
    w_z, w_r, w_h = np.split(kernel, 3, axis=1)
    u_z, u_r, u_h = np.split(recurrent_kernel, 3, axis=1)
    if reset_after:
        b_z, b_r, b_xh = np.split(bias[0], 3)
        rb_z, rb_r, b_hh = np.split(bias[1], 3)
        b_z, b_r = b_z + rb_z, b_r + rb_r
    else:
        b_z, b_r, b_h = np.split(bias, 3)
    h = np.zeros((batch, units)) if h0 is None else h0
    states = []
    for t in range(steps):
        x_t = x[:, t]
        z = _sigmoid(x_t @ w_z + h @ u_z + b_z)
        r = _sigmoid(x_t @ w_r + h @ u_r + b_r)
        if reset_after:
            hh = np.tanh(x_t @ w_h + b_xh + r * (h @ u_h + b_hh))
        else:
            hh = np.tanh(x_t @ w_h + (r * h) @ u_h + b_h)
        h = z * h + (1.0 - z) * hh
        states.append(h)
    return np.stack(states, axis=1)


def random_weights(rng, input_dim, units, reset_after):
    """Weights in Keras's layout with non-zero biases, so that every term is exercised."""
    bias_shape = (2, 3 * units) if reset_after else (3 * units,)
    return [
        rng.normal(scale=0.5, size=(input_dim, 3 * units)).astype("float32"),
        rng.normal(scale=0.5, size=(units, 3 * units)).astype("float32"),
        rng.normal(scale=0.3, size=bias_shape).astype("float32"),
    ]


def outputs_and_gradients(layer, x):
    """Layer output plus gradients of a weighted sum w.r.t. the input and every weight."""
    x = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = layer(x)
        weights = tf.cos(tf.range(tf.size(y), dtype=y.dtype))
        loss = tf.reduce_sum(tf.reshape(y, [-1]) * weights)
    grads = tape.gradient(loss, [x, *layer.trainable_variables])
    return [np.asarray(y)] + [np.asarray(g) for g in grads]


def max_diff(a, b):
    return max(float(np.max(np.abs(p - q))) for p, q in zip(a, b, strict=True))


@pytest.mark.parametrize("reset_after", [True, False])
@pytest.mark.parametrize("return_sequences", [True, False])
def test_rnn_of_cell_matches_keras_gru_outputs_and_gradients(reset_after, return_sequences):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(3, 7, 4)).astype("float32")
    weights = random_weights(rng, 4, 5, reset_after)
    ours = keras.layers.RNN(GRUCell(5, reset_after=reset_after), return_sequences=return_sequences)
    ref = keras.layers.GRU(5, reset_after=reset_after, return_sequences=return_sequences)
    ours.build(x.shape)
    ref.build(x.shape)
    ours.set_weights(weights)
    ref.set_weights(weights)

    assert max_diff(outputs_and_gradients(ours, x), outputs_and_gradients(ref, x)) <= TOL


@pytest.mark.parametrize("reset_after", [True, False])
def test_weights_copy_from_our_cell_to_keras(reset_after):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(2, 5, 3)).astype("float32")
    ours = keras.layers.RNN(GRUCell(4, reset_after=reset_after), return_sequences=True)
    ours.build(x.shape)
    ours.set_weights(random_weights(rng, 3, 4, reset_after))
    ref = keras.layers.GRU(4, reset_after=reset_after, return_sequences=True)
    ref.build(x.shape)
    ref.set_weights(ours.get_weights())

    assert [w.shape for w in ours.get_weights()] == [w.shape for w in ref.get_weights()]
    np.testing.assert_allclose(ours(x), ref(x), atol=TOL, rtol=0)


def test_cell_without_bias_matches_keras():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(2, 4, 3)).astype("float32")
    ours = keras.layers.RNN(GRUCell(3, use_bias=False), return_sequences=True)
    ref = keras.layers.GRU(3, use_bias=False, return_sequences=True)
    ours.build(x.shape)
    ref.build(x.shape)
    weights = random_weights(rng, 3, 3, reset_after=True)[:2]
    ours.set_weights(weights)
    ref.set_weights(weights)

    assert len(ours.get_weights()) == 2
    np.testing.assert_allclose(ours(x), ref(x), atol=TOL, rtol=0)


@pytest.mark.parametrize("reset_after", [True, False])
def test_cell_matches_numpy_transcription_of_the_equations(reset_after):
    rng = np.random.default_rng(3)
    x = rng.normal(size=(4, 6, 3)).astype("float32")
    weights = random_weights(rng, 3, 5, reset_after)
    rnn = keras.layers.RNN(GRUCell(5, reset_after=reset_after), return_sequences=True)
    rnn.build(x.shape)
    rnn.set_weights(weights)

    expected = numpy_gru(x.astype("float64"), *[w.astype("float64") for w in weights], reset_after)
    np.testing.assert_allclose(rnn(x), expected, atol=TOL, rtol=0)


def test_single_step_call_returns_output_and_state_list():
    cell = GRUCell(3)
    x = np.ones((2, 4), "float32")
    h_tm1 = np.zeros((2, 3), "float32")
    output, states = cell(x, [h_tm1])
    assert output.shape == (2, 3)
    assert isinstance(states, list) and len(states) == 1
    np.testing.assert_array_equal(output, states[0])
    assert cell.get_initial_state(batch_size=5)[0].shape == (5, 3)


# "MathMath" as one-hot rows over the vocabulary {'h': 0, 'a': 1, 't': 2, 'M': 3}.
MATH_IDS = [3, 1, 2, 0, 3, 1, 2, 0]
# Hand-chosen weights, hidden size 2; columns are z1 z2 | r1 r2 | h1 h2 (Keras's layout).
MATH_KERNEL = [
    [0.1, -0.2, 0.3, 0.0, 0.5, -0.4],  # 'h'
    [-0.3, 0.2, 0.1, 0.4, -0.5, 0.3],  # 'a'
    [0.2, 0.1, -0.2, 0.3, 0.4, 0.2],  # 't'
    [0.0, -0.1, 0.2, -0.3, -0.2, 0.6],  # 'M'
]
MATH_RECURRENT = [
    [0.2, -0.1, 0.1, 0.3, -0.3, 0.2],
    [0.1, 0.4, -0.2, 0.1, 0.2, -0.5],
]
MATH_BIAS = [0.1, 0.0, -0.1, 0.0, 0.05, -0.05]
MATH_RECURRENT_BIAS = [0.0, 0.1, 0.0, -0.1, 0.1, 0.0]
# Expected states h_1..h_8, computed once in float64 with NumPy by stepping the equations of
# the module docstring from h_0 = 0 and rounding to 8 decimals. The first row checks by hand:
# x = 'M' gives x W + b = [0.1, -0.1 | 0.1, -0.3 | -0.15, 0.55]; with h_0 = 0,
# z = σ([0.1, -0.1]) = [0.52498, 0.47502], hh = tanh([-0.15, 0.55]) = [-0.14889, 0.50052],
# h_1 = (1 − z) ⊙ hh = [-0.0707235, 0.2627627].
MATH_EXPECTED_RESET_BEFORE = [
    [-0.07072349, 0.26276269],
    [-0.24363305, 0.22054515],
    [0.0628993, 0.15235171],
    [0.2586268, -0.16947265],
    [0.04291708, 0.22378588],
    [-0.19970696, 0.2067738],
    [0.08436749, 0.14756882],
    [0.26887281, -0.17080549],
]
# Same weights, reset_after=True with input bias MATH_BIAS and recurrent bias
# MATH_RECURRENT_BIAS.
MATH_EXPECTED_RESET_AFTER = [
    [-0.04616931, 0.25026011],
    [-0.21435396, 0.21844568],
    [0.08873986, 0.15469166],
    [0.28900062, -0.15239913],
    [0.08143246, 0.21006049],
    [-0.16436799, 0.20412878],
    [0.11354948, 0.14980794],
    [0.30096784, -0.15400024],
]


def test_mathmath_encoding():
    vocab = {"h": 0, "a": 1, "t": 2, "M": 3}
    assert [vocab[c] for c in "MathMath"] == MATH_IDS


@pytest.mark.parametrize(
    ("reset_after", "bias", "expected"),
    [
        (False, MATH_BIAS, MATH_EXPECTED_RESET_BEFORE),
        (True, [MATH_BIAS, MATH_RECURRENT_BIAS], MATH_EXPECTED_RESET_AFTER),
    ],
)
def test_mathmath_tiny_case_with_literal_expected_states(reset_after, bias, expected):
    x = np.eye(4, dtype="float32")[MATH_IDS][None]  # [1, 8, 4]
    rnn = keras.layers.RNN(GRUCell(2, reset_after=reset_after), return_sequences=True)
    rnn.build(x.shape)
    rnn.set_weights([np.array(w, "float32") for w in (MATH_KERNEL, MATH_RECURRENT, bias)])

    np.testing.assert_allclose(rnn(x)[0], np.array(expected), atol=1e-6, rtol=0)


@pytest.mark.parametrize("reset_after", [True, False])
def test_return_gates_exposes_z_and_r_and_keeps_h(reset_after):
    rng = np.random.default_rng(4)
    x = rng.normal(size=(3, 6, 4)).astype("float32")
    weights = random_weights(rng, 4, 5, reset_after)
    plain = keras.layers.RNN(GRUCell(5, reset_after=reset_after), return_sequences=True)
    gated = keras.layers.RNN(
        GRUCell(5, reset_after=reset_after, return_gates=True), return_sequences=True
    )
    for rnn in (plain, gated):
        rnn.build(x.shape)
        rnn.set_weights(weights)

    out = np.asarray(gated(x))
    assert out.shape == (3, 6, 15)
    h, z, r = np.split(out, 3, axis=-1)
    np.testing.assert_allclose(h, plain(x), atol=TOL, rtol=0)
    for gate in (z, r):
        assert gate.min() >= 0.0 and gate.max() <= 1.0
    # z at step t is σ(x_t W_z + h_{t−1} U_z + b_z) with the h just returned.
    h_prev = np.concatenate([np.zeros((3, 1, 5), "float32"), h[:, :-1]], axis=1)
    b_z = weights[2][0, :5] + weights[2][1, :5] if reset_after else weights[2][:5]
    z_expected = _sigmoid(x @ weights[0][:, :5] + h_prev @ weights[1][:, :5] + b_z)
    np.testing.assert_allclose(z, z_expected, atol=TOL, rtol=0)


def test_dropout_changes_training_output_only():
    rng = np.random.default_rng(5)
    x = rng.normal(size=(4, 5, 6)).astype("float32")
    rnn = keras.layers.RNN(GRUCell(3, dropout=0.5, recurrent_dropout=0.3, seed=1))
    plain = keras.layers.RNN(GRUCell(3))
    rnn.build(x.shape)
    plain.build(x.shape)
    plain.set_weights(rnn.get_weights())

    np.testing.assert_allclose(rnn(x, training=False), plain(x), atol=TOL, rtol=0)
    assert np.max(np.abs(rnn(x, training=True) - plain(x))) > 1e-3


def test_get_config_round_trip():
    cell = GRUCell(
        7,
        activation="relu",
        use_bias=False,
        kernel_regularizer="l2",
        dropout=0.25,
        reset_after=False,
        return_gates=True,
        seed=3,
        name="my_cell",
    )
    config = cell.get_config()
    for key, value in {
        "units": 7,
        "use_bias": False,
        "dropout": 0.25,
        "reset_after": False,
        "return_gates": True,
        "seed": 3,
    }.items():
        assert config[key] == value
    clone = GRUCell.from_config(config)
    assert clone.get_config() == config
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(cell))
    assert isinstance(restored, GRUCell)
    assert restored.get_config() == config


def test_registered_name_does_not_shadow_keras():
    assert keras.saving.get_registered_name(GRUCell) == "forecasting>GRUCell"
    assert keras.saving.get_registered_object("forecasting>GRUCell") is GRUCell


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"units": 0}, "`units` must be a positive integer, received: 0"),
        ({"units": -3}, "`units` must be a positive integer, received: -3"),
        ({"units": 2.5}, "`units` must be a positive integer, received: 2.5"),
        ({"units": True}, "`units` must be a positive integer, received: True"),
        ({"units": 4, "dropout": 1.0}, "`dropout` must be a float in [0, 1), received: 1.0"),
        (
            {"units": 4, "recurrent_dropout": -0.1},
            "`recurrent_dropout` must be a float in [0, 1), received: -0.1",
        ),
        (
            {"units": 4, "reset_after": "yes"},
            "`reset_after` must be True or False, received: 'yes'",
        ),
        ({"units": 4, "return_gates": 1}, "`return_gates` must be True or False, received: 1"),
    ],
)
def test_invalid_arguments_are_rejected_with_a_clear_message(kwargs, message):
    with pytest.raises(ValueError) as excinfo:
        GRUCell(**kwargs)
    assert str(excinfo.value) == message
