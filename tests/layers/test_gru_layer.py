"""forecasting.layers.GRU: parity with keras.layers.GRU for every kernel, Keras RNN behaviour
(masking, return_sequences/return_state, go_backwards, initial state), gates, config, saving
and training."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf

from forecasting.layers import GRU, GRUCell
from forecasting.layers.gru import IMPLEMENTATIONS

TOL = 1e-5
ROOT = Path(__file__).resolve().parents[2]


def random_weights(rng, input_dim, units, reset_after, use_bias=True):
    weights = [
        rng.normal(scale=0.5, size=(input_dim, 3 * units)).astype("float32"),
        rng.normal(scale=0.5, size=(units, 3 * units)).astype("float32"),
    ]
    if use_bias:
        bias_shape = (2, 3 * units) if reset_after else (3 * units,)
        weights.append(rng.normal(scale=0.3, size=bias_shape).astype("float32"))
    return weights


def twin_layers(rng, x, units, reset_after=True, use_bias=True, **kwargs):
    """Our GRU and keras.layers.GRU, built on x's shape, sharing random weights."""
    implementation = kwargs.pop("implementation", "auto")
    ours = GRU(
        units,
        reset_after=reset_after,
        use_bias=use_bias,
        implementation=implementation,
        **kwargs,
    )
    ref = keras.layers.GRU(units, reset_after=reset_after, use_bias=use_bias, **kwargs)
    weights = random_weights(rng, x.shape[-1], units, reset_after, use_bias)
    for layer in (ours, ref):
        layer.build(x.shape)
        layer.set_weights(weights)
    return ours, ref


def outputs_and_gradients(layer, x, **call_kwargs):
    """Every output of the layer plus gradients of a weighted sum w.r.t. input and weights."""
    x = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(x)
        outputs = tf.nest.flatten(layer(x, **call_kwargs))
        loss = 0.0
        for y in outputs:
            weights = tf.cos(tf.range(tf.size(y), dtype=y.dtype))
            loss += tf.reduce_sum(tf.reshape(y, [-1]) * weights)
    grads = tape.gradient(loss, [x, *layer.trainable_variables])
    return [np.asarray(y) for y in outputs] + [np.asarray(g) for g in grads]


def max_diff(a, b):
    assert len(a) == len(b)
    return max(float(np.max(np.abs(p - q))) for p, q in zip(a, b, strict=True))


@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
@pytest.mark.parametrize("reset_after", [True, False])
@pytest.mark.parametrize(
    ("return_sequences", "training"), [(True, False), (True, True), (False, True)]
)
def test_matches_keras_gru_outputs_and_gradients(
    implementation, reset_after, return_sequences, training
):
    """training=True keeps the per-step values for the backward pass; training=False keeps
    nothing and the hand-written backward recomputes them."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(3, 9, 4)).astype("float32")
    ours, ref = twin_layers(
        rng,
        x,
        6,
        reset_after=reset_after,
        implementation=implementation,
        return_sequences=return_sequences,
    )
    a = outputs_and_gradients(ours, x, training=training)
    b = outputs_and_gradients(ref, x, training=training)
    assert max_diff(a, b) <= TOL


@pytest.mark.parametrize("reset_after", [True, False])
def test_matches_keras_inside_a_compiled_function(reset_after):
    """Graph mode, as in model.fit: the fast kernel traced inside tf.function."""
    rng = np.random.default_rng(10)
    x = rng.normal(size=(4, 6, 3)).astype("float32")
    ours, ref = twin_layers(rng, x, 5, reset_after=reset_after, return_sequences=True)
    ours_fn = tf.function(lambda v: outputs_and_gradients_graph(ours, v))
    ref_fn = tf.function(lambda v: outputs_and_gradients_graph(ref, v))
    a = [np.asarray(t) for t in ours_fn(tf.constant(x))]
    b = [np.asarray(t) for t in ref_fn(tf.constant(x))]
    assert max_diff(a, b) <= TOL


def outputs_and_gradients_graph(layer, x):
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = layer(x)
        loss = tf.reduce_sum(y * tf.sin(tf.cast(tf.range(tf.shape(y)[-1]), y.dtype)))
    return [y, *tape.gradient(loss, [x, *layer.trainable_variables])]


@pytest.mark.parametrize("implementation", ["auto", "autodiff"])
def test_matches_keras_without_bias(implementation):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(2, 5, 3)).astype("float32")
    ours, ref = twin_layers(
        rng, x, 4, use_bias=False, implementation=implementation, return_sequences=True
    )
    assert len(ours.get_weights()) == 2
    assert max_diff(outputs_and_gradients(ours, x), outputs_and_gradients(ref, x)) <= TOL


@pytest.mark.parametrize("reset_after", [True, False])
def test_weights_copy_both_ways_with_keras_gru(reset_after):
    rng = np.random.default_rng(2)
    x = rng.normal(size=(2, 5, 3)).astype("float32")
    ours = GRU(4, reset_after=reset_after, return_sequences=True)
    ref = keras.layers.GRU(4, reset_after=reset_after, return_sequences=True)
    ours.build(x.shape)
    ref.build(x.shape)
    assert [v.shape for v in ours.weights] == [v.shape for v in ref.weights]
    assert [v.name for v in ours.weights] == [v.name for v in ref.weights]

    ref.set_weights(random_weights(rng, 3, 4, reset_after))
    ours.set_weights(ref.get_weights())  # keras -> ours
    np.testing.assert_allclose(ours(x), ref(x), atol=TOL, rtol=0)

    ours.set_weights(random_weights(rng, 3, 4, reset_after))
    ref.set_weights(ours.get_weights())  # ours -> keras
    np.testing.assert_allclose(ours(x), ref(x), atol=TOL, rtol=0)

    cell_rnn = keras.layers.RNN(GRUCell(4, reset_after=reset_after), return_sequences=True)
    cell_rnn.build(x.shape)
    cell_rnn.set_weights(ours.get_weights())  # ours -> RNN(GRUCell)
    np.testing.assert_allclose(cell_rnn(x), ours(x), atol=TOL, rtol=0)


def test_default_implementation_runs_the_fast_kernel_not_the_cell(monkeypatch):
    rng = np.random.default_rng(3)
    x = rng.normal(size=(2, 4, 3)).astype("float32")
    layer = GRU(5)
    layer.build(x.shape)

    def forbidden(*args, **kwargs):
        raise AssertionError("the cell was called step by step")

    monkeypatch.setattr(layer.cell, "call", forbidden)
    assert layer(x).shape == (2, 5)

    cell_path = GRU(5, implementation="cell")
    cell_path.build(x.shape)
    monkeypatch.setattr(cell_path.cell, "call", forbidden)
    with pytest.raises(AssertionError, match="step by step"):
        cell_path(x)


@pytest.mark.parametrize("reset_after", [True, False])
@pytest.mark.parametrize("return_sequences", [True, False])
def test_masking_matches_keras(reset_after, return_sequences):
    rng = np.random.default_rng(4)
    x = rng.normal(size=(3, 7, 4)).astype("float32")
    mask = np.ones((3, 7), bool)
    mask[0, 5:] = False  # right padding
    mask[1, 2] = False  # a gap in the middle
    mask[2, :2] = False  # left padding
    ours, ref = twin_layers(
        rng,
        x,
        5,
        reset_after=reset_after,
        return_sequences=return_sequences,
        return_state=True,
    )
    a = outputs_and_gradients(ours, x, mask=tf.constant(mask))
    b = outputs_and_gradients(ref, x, mask=tf.constant(mask))
    assert max_diff(a, b) <= TOL
    if return_sequences:
        # A masked step repeats the previous output, as keras.layers.GRU does.
        np.testing.assert_array_equal(a[0][1, 2], a[0][1, 1])


def test_masking_layer_in_a_model_matches_keras():
    rng = np.random.default_rng(5)
    x = rng.normal(size=(4, 6, 2)).astype("float32")
    x[1, 4:] = 0.0
    x[3, 3:] = 0.0
    weights = random_weights(rng, 2, 3, reset_after=True)

    def model(layer):
        inputs = keras.Input((6, 2))
        m = keras.Model(inputs, layer(keras.layers.Masking(0.0)(inputs)))
        layer.set_weights(weights)
        return m

    ours = model(GRU(3, return_sequences=True))
    ref = model(keras.layers.GRU(3, return_sequences=True))
    np.testing.assert_allclose(ours.predict(x, verbose=0), ref.predict(x, verbose=0), atol=TOL)


@pytest.mark.parametrize("implementation", ["auto", "cell"])
def test_return_state_go_backwards_and_initial_state_match_keras(implementation):
    rng = np.random.default_rng(6)
    x = rng.normal(size=(3, 5, 4)).astype("float32")
    h0 = rng.normal(size=(3, 6)).astype("float32")
    ours, ref = twin_layers(
        rng,
        x,
        6,
        implementation=implementation,
        return_sequences=True,
        return_state=True,
        go_backwards=True,
    )
    a = outputs_and_gradients(ours, x, initial_state=[tf.constant(h0)])
    b = outputs_and_gradients(ref, x, initial_state=[tf.constant(h0)])
    assert len(a) == len(b) == 2 + 4  # outputs, state, d/dx and three weights
    assert a[0].shape == (3, 5, 6) and a[1].shape == (3, 6)
    assert max_diff(a, b) <= TOL


def test_stateful_layer_carries_the_state_like_keras():
    rng = np.random.default_rng(7)
    x = rng.normal(size=(2, 4, 3)).astype("float32")
    ours = GRU(3, stateful=True)
    ref = keras.layers.GRU(3, stateful=True)
    weights = random_weights(rng, 3, 3, reset_after=True)
    for layer in (ours, ref):
        layer.build(x.shape)
        layer.set_weights(weights)
    for _ in range(2):  # the second call starts from the first call's last state
        np.testing.assert_allclose(ours(x), ref(x), atol=TOL, rtol=0)


@pytest.mark.parametrize("reset_after", [True, False])
def test_return_gates_gives_h_z_r(reset_after):
    rng = np.random.default_rng(8)
    x = rng.normal(size=(2, 6, 3)).astype("float32")
    plain = GRU(4, reset_after=reset_after, return_sequences=True)
    gated = GRU(4, reset_after=reset_after, return_sequences=True, return_gates=True)
    weights = random_weights(rng, 3, 4, reset_after)
    for layer in (plain, gated):
        layer.build(x.shape)
        layer.set_weights(weights)

    out = np.asarray(gated(x))
    assert out.shape == (2, 6, 12)
    h, z, r = np.split(out, 3, axis=-1)
    np.testing.assert_allclose(h, plain(x), atol=TOL, rtol=0)
    assert z.min() >= 0.0 and z.max() <= 1.0 and r.min() >= 0.0 and r.max() <= 1.0
    # The state stays h even though the output carries the gates.
    _, state = GRU(4, reset_after=reset_after, return_gates=True, return_state=True)(x)
    assert state.shape == (2, 4)


def test_input_dropout_applies_only_while_training():
    rng = np.random.default_rng(9)
    x = rng.normal(size=(4, 5, 6)).astype("float32")
    layer = GRU(3, dropout=0.5, seed=2)
    plain = GRU(3)
    layer.build(x.shape)
    plain.build(x.shape)
    plain.set_weights(layer.get_weights())
    np.testing.assert_allclose(layer(x, training=False), plain(x), atol=TOL, rtol=0)
    assert np.max(np.abs(layer(x, training=True) - plain(x))) > 1e-3


def test_get_config_round_trip():
    layer = GRU(
        5,
        return_sequences=True,
        return_state=True,
        go_backwards=True,
        reset_after=False,
        return_gates=True,
        dropout=0.1,
        implementation="cell",
        name="our_gru",
    )
    config = layer.get_config()
    assert "cell" not in config
    for key, value in {
        "units": 5,
        "return_sequences": True,
        "return_state": True,
        "go_backwards": True,
        "reset_after": False,
        "return_gates": True,
        "dropout": 0.1,
        "implementation": "cell",
    }.items():
        assert config[key] == value
    assert GRU.from_config(config).get_config() == config
    assert keras.saving.get_registered_name(GRU) == "forecasting>GRU"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"units": 0}, "`units` must be a positive integer, received: 0"),
        ({"units": 3, "dropout": 2}, "`dropout` must be a float in [0, 1), received: 2"),
        (
            {"units": 3, "implementation": "fast"},
            "`implementation` must be one of ('auto', 'bptt', 'bptt_graph', 'autodiff', "
            "'cell'), received: 'fast'",
        ),
    ],
)
def test_invalid_arguments_are_rejected_with_a_clear_message(kwargs, message):
    with pytest.raises(ValueError) as excinfo:
        GRU(**kwargs)
    assert str(excinfo.value) == message


def build_model(steps=None, features=3):
    """A small forecaster with both of our layers: RNN(GRUCell) -> GRU -> Dense."""
    inputs = keras.Input((steps, features))
    seq = keras.layers.RNN(GRUCell(6, reset_after=False), return_sequences=True)(inputs)
    last = GRU(5, dropout=0.1, seed=0)(seq)
    return keras.Model(inputs, keras.layers.Dense(1)(last))


def test_one_fit_step_lowers_the_loss_and_predict_takes_any_batch_size():
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(11)
    x = rng.normal(size=(64, 8, 3)).astype("float32")
    y = x[:, -3:, 0].sum(axis=1, keepdims=True)
    model = build_model(steps=8)
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="mse")
    before = model.evaluate(x, y, verbose=0, batch_size=64)
    model.fit(x, y, epochs=1, batch_size=64, verbose=0)
    after = model.evaluate(x, y, verbose=0, batch_size=64)
    assert after < before
    assert model.predict(x[:7], verbose=0).shape == (7, 1)
    assert model.predict(x, batch_size=48, verbose=0).shape == (64, 1)  # batches of 48 and 16


def test_fit_works_with_variable_length_sequences():
    keras.utils.set_random_seed(1)
    model = build_model(steps=None)
    model.compile(optimizer="sgd", loss="mse")
    rng = np.random.default_rng(12)
    for steps in (4, 9):
        x = rng.normal(size=(8, steps, 3)).astype("float32")
        history = model.fit(x, x[:, -1, :1], epochs=1, verbose=0)
        assert np.isfinite(history.history["loss"][0])


def test_saved_model_reloads_in_a_fresh_process_with_identical_predictions(tmp_path):
    keras.utils.set_random_seed(2)
    rng = np.random.default_rng(13)
    x = rng.normal(size=(5, 8, 3)).astype("float32")
    model = build_model(steps=8)
    model.compile(optimizer="adam", loss="mse")
    model.fit(x, x[:, -1, :1], epochs=1, verbose=0)
    model.save(tmp_path / "model.keras")
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "expected.npy", model.predict(x, verbose=0))

    script = textwrap.dedent(
        """
        import sys
        import keras, numpy as np
        import forecasting.layers  # registers forecasting>GRUCell and forecasting>GRU
        folder = sys.argv[1]
        model = keras.saving.load_model(folder + "/model.keras")
        kinds = sorted(type(layer).__name__ for layer in model.layers)
        prediction = model.predict(np.load(folder + "/x.npy"), verbose=0)
        np.testing.assert_array_equal(prediction, np.load(folder + "/expected.npy"))
        print("reloaded", kinds)
        """
    )
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path)],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "GRU" in result.stdout and "RNN" in result.stdout
