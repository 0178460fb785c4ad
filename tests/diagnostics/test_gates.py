"""GRU gate inspection: the gate reader reproduces the layer it copies, and finds GRUs in forecasters."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from forecasting.diagnostics.gates import (
    GateTrace,
    gate_reader,
    gru_layers,
    layer_inputs,
    plot_gates,
    read_gates,
    recurrent_layers,
)
from forecasting.layers import GRU, GRUCell
from forecasting.models.builder import ModelSpec, build_forecaster


def _sigmoid(a):
    return 1.0 / (1.0 + np.exp(-a))


def _x(batch=3, steps=9, features=4, seed=0):
    return np.random.default_rng(seed).normal(size=(batch, steps, features)).astype("float32")


def _trained_looking(layer, x):
    """Build ``layer`` and give it non-zero biases, so that every gate term is exercised."""
    layer(x)
    weights = layer.get_weights()
    weights[-1] = (
        np.random.default_rng(5).normal(scale=0.4, size=weights[-1].shape).astype("float32")
    )
    layer.set_weights(weights)
    return layer


@pytest.mark.parametrize("reset_after", [True, False])
@pytest.mark.parametrize(
    "make",
    [
        lambda ra: GRU(5, reset_after=ra, return_sequences=True),  # ours, fast kernel
        lambda ra: keras.layers.RNN(
            GRUCell(5, reset_after=ra), return_sequences=True
        ),  # ours, cell loop
        lambda ra: keras.layers.GRU(5, reset_after=ra, return_sequences=True),  # Keras's
    ],
    ids=["ours", "our-cell", "keras"],
)
def test_reader_reproduces_the_states_of_the_layer_it_copies(make, reset_after):
    x = _x()
    layer = _trained_looking(make(reset_after), x)
    trace = read_gates(layer, x)
    assert trace.h.shape == trace.z.shape == trace.r.shape == (3, 9, 5)
    np.testing.assert_allclose(trace.h, np.asarray(layer(x)), atol=1e-5)
    assert (
        0.0 < trace.z.min() and trace.z.max() < 1.0 and 0.0 < trace.r.min() and trace.r.max() < 1.0
    )


def test_gates_match_the_equations_at_the_first_step():
    """With h_0 = 0 the first step's gates are σ(x W + b): checkable without any recurrence."""
    x = _x()
    layer = _trained_looking(GRU(5, reset_after=False), x)
    kernel, _, bias = layer.get_weights()
    trace = read_gates(layer, x)
    np.testing.assert_allclose(
        trace.z[:, 0], _sigmoid(x[:, 0] @ kernel[:, :5] + bias[:5]), atol=1e-6
    )
    np.testing.assert_allclose(
        trace.r[:, 0], _sigmoid(x[:, 0] @ kernel[:, 5:10] + bias[5:10]), atol=1e-6
    )


def test_an_lstm_has_no_gates_to_read():
    lstm = keras.layers.LSTM(4)
    lstm(_x())
    with pytest.raises(ValueError, match="GRU layers only"):
        gate_reader(lstm)


@pytest.mark.parametrize(
    ("cell", "impl", "n_gru"),
    [("gru", "custom", 2), ("gru", "cell", 2), ("gru", "keras", 2), ("lstm", "custom", 0)],
)
def test_finds_the_recurrent_stack_of_a_forecaster_and_what_each_layer_reads(cell, impl, n_gru):
    model = build_forecaster(
        cell, ModelSpec(arch="pointwise", gru_impl=impl, units=6, layers=2), 12, 3, 4, 2
    )
    recurrent = recurrent_layers(model)
    assert [layer.name for layer in recurrent] == [f"{cell}_0", f"{cell}_1"]
    assert len(gru_layers(model)) == n_gru
    inputs = {"past": _x(2, 12, 4), "future": _x(2, 3, 2)}
    seen = layer_inputs(model, recurrent, inputs)
    np.testing.assert_array_equal(seen[f"{cell}_0"], inputs["past"])
    assert seen[f"{cell}_1"].shape == (2, 12, 6)  # the states of the layer below


def test_gate_plot_is_a_png(tmp_path):
    rng = np.random.default_rng(0)
    trace = GateTrace(*(rng.uniform(size=(2, 10, 4)) for _ in range(3)))
    plot_gates(
        tmp_path / "gates.png",
        np.sin(np.arange(10)),
        {"gru_0": trace, "gru_1": trace},
        sample=1,
        times=[f"t{i}" for i in range(10)],
        title="two layers",
    )
    assert (tmp_path / "gates.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert set(trace.summary()) == {"z_mean", "r_mean", "z_above_0.9"}
