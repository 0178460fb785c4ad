"""Gradient flow through time: how much the last state still depends on each earlier state.

For a recurrent layer run over a window ``x`` [B, T, D], the measure is the norm of the
Jacobian of the last state with respect to the state ``T − t`` steps earlier,

    g(d) = mean over the batch of ‖∂h_T / ∂s_{T−d}‖_F,    d = 0 … T,

where ``s_t`` is the whole recurrent state after ``t`` inputs (``h`` for SimpleRNN and GRU,
``[h, c]`` for the LSTM) and ``s_0`` is the initial state. ``g(0) = √H`` (the identity). By
the chain rule the Jacobian is the product of the one-step Jacobians ∂s_t/∂s_{t−1}; a plain
RNN's factors are ``(1 − h_t²) · W_hh``, so the product shrinks (or grows) geometrically with
``d``, while a GRU whose update gate z is near 1 multiplies by about 1 per step. Plotted on a
log scale against ``d``, this is the vanishing-gradient picture, measured.

The measure is computed by unrolling the layer's cell step by step under a
``tf.GradientTape`` (so it works for any Keras RNN layer with a ``cell``: SimpleRNN, LSTM,
Keras's GRU, and the product's `forecasting.layers.GRU`, whose fast kernel is bypassed).
All H rows of the Jacobian come out of one backward pass: the batch is repeated H times and
copy ``j`` back-propagates only unit ``j`` of ``h_T``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import keras
import numpy as np

__all__ = [
    "KINDS",
    "ChronoGateBias",
    "GradientFlow",
    "copy_first_task",
    "far_mean",
    "gradient_flow",
    "plot_gradient_flow",
    "probe_model",
    "recurrent_layer",
    "state_gradient_norms",
    "train_probe",
]

log = logging.getLogger(__name__)

KINDS = ("simple_rnn", "gru", "lstm")
LABELS = {"simple_rnn": "SimpleRNN", "gru": "GRU", "lstm": "LSTM"}


@dataclass
class GradientFlow:
    """Gradient norms ``‖∂h_T/∂s_{T−d}‖`` against the distance ``d`` for several layers.

    ``norms[label]`` is an array of length ``T + 1`` indexed by ``d`` (0 = the last state).
    """

    steps: int
    norms: dict[str, np.ndarray] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def distances(self) -> np.ndarray:
        return np.arange(self.steps + 1)

    def far_mean(self, label: str, last: int = 10) -> float:
        """Mean norm over the ``last`` largest distances (the far end of the window)."""
        return far_mean(self.norms[label], last)

    def to_frame(self):
        """One row per distance, one column per layer (for CSV logging)."""
        import pandas as pd

        return pd.DataFrame(self.norms, index=pd.Index(self.distances, name="distance"))


def far_mean(norms: np.ndarray, last: int = 10) -> float:
    """Mean of the ``last`` measured norms (a shorter window's missing distances are NaN)."""
    norms = np.asarray(norms, dtype=float)
    return float(np.mean(norms[np.isfinite(norms)][-last:]))


@keras.saving.register_keras_serializable(package="forecasting", name="ChronoGateBias")
class ChronoGateBias(keras.initializers.Initializer):
    """Bias whose "keep the past" gate starts at time scales spread between 1 and ``memory`` steps.

    Chrono initialisation: the keeping gate's bias is ``log(u)`` with ``u ~ U(1, memory − 1)``,
    so unit ``j`` starts with a memory of about ``u_j`` steps; every other bias is zero. For a
    GRU (``gates="gru"``, layout z, r, h) the keeping gate is the update gate z; for an LSTM
    (``gates="lstm"``, layout i, f, c, o) it is the forget gate, and the input gate gets the
    opposite bias. Keras's own ``unit_forget_bias`` (forget bias 1) is the fixed-scale version
    of the same idea; with zero biases a GRU starts at z ≈ 0.5 and halves its memory each step.

    Args:
        memory: Longest time scale in steps (the window length is a good choice), at least 3.
        gates: ``"gru"`` or ``"lstm"``, the bias layout.
        seed: Seed of the time scales.
    """

    def __init__(self, memory: int, gates: str = "gru", seed: int | None = None):
        if not isinstance(memory, int) or memory < 3:
            raise ValueError(
                f"`memory` must be an integer of at least 3 steps, received: {memory!r}"
            )
        if gates not in ("gru", "lstm"):
            raise ValueError(f"`gates` must be 'gru' or 'lstm', received: {gates!r}")
        self.memory, self.gates, self.seed = memory, gates, seed

    def __call__(self, shape, dtype=None):
        shape = tuple(int(s) for s in shape)
        blocks = 3 if self.gates == "gru" else 4
        units = shape[-1] // blocks
        bias = np.zeros(shape, dtype=np.float32)
        row = bias[0] if len(shape) == 2 else bias  # reset_after GRU: row 0 is the input-side bias
        scales = np.log(np.random.default_rng(self.seed).uniform(1.0, self.memory - 1.0, units))
        if self.gates == "gru":
            row[:units] = scales  # z: keep the old state
        else:
            row[units : 2 * units] = scales  # f: keep the old cell
            row[:units] = -scales  # i: write less where the cell keeps more
        return keras.ops.convert_to_tensor(bias, dtype=dtype or "float32")

    def get_config(self):
        return {"memory": self.memory, "gates": self.gates, "seed": self.seed}


def recurrent_layer(
    kind: str, units: int, seed: int = 0, memory: int | None = None, name: str = "recurrent"
) -> keras.layers.Layer:
    """A SimpleRNN, the product's GRU or an LSTM with ``units`` units and seeded initialisers.

    The three share the initialiser family (Glorot-uniform input kernel, orthogonal
    recurrent kernel), so that at the same size they differ only by their gating. With
    ``memory`` (steps), the gated layers get `ChronoGateBias` (time scales up to ``memory``
    steps); without it they keep Keras's defaults (zero GRU biases, LSTM forget bias 1).
    """
    if kind not in KINDS:
        raise ValueError(f"`kind` must be one of {KINDS}, received: {kind!r}")
    common = {
        "kernel_initializer": keras.initializers.GlorotUniform(seed=seed),
        "recurrent_initializer": keras.initializers.Orthogonal(seed=seed + 1),
        "name": name,
    }
    if kind == "simple_rnn":
        return keras.layers.SimpleRNN(units, **common)
    if kind == "lstm":
        if memory is not None:
            common |= {
                "bias_initializer": ChronoGateBias(memory, "lstm", seed),
                "unit_forget_bias": False,
            }
        return keras.layers.LSTM(units, **common)
    from forecasting.layers import GRU

    if memory is not None:
        common["bias_initializer"] = ChronoGateBias(memory, "gru", seed)
    return GRU(units, **common)


def probe_model(
    kind: str,
    units: int,
    steps: int,
    n_features: int,
    n_outputs: int,
    seed: int = 0,
    memory: int | None = None,
) -> keras.Model:
    """``[B, T, D] -> [B, n_outputs]``: one recurrent layer (named ``recurrent``) and a linear head."""
    inputs = keras.Input((steps, n_features), name="window")
    h = recurrent_layer(kind, units, seed, memory)(inputs)  # [B, T, D] -> [B, H]
    head = keras.layers.Dense(
        n_outputs, kernel_initializer=keras.initializers.GlorotUniform(seed=seed + 2), name="head"
    )
    return keras.Model(inputs, head(h), name=f"{kind}_probe")


def train_probe(
    kind: str,
    x: np.ndarray,
    y: np.ndarray,
    units: int,
    epochs: int = 3,
    seed: int = 0,
    batch_size: int = 64,
    learning_rate: float = 3e-3,
    memory: int | None = None,
    verbose: int = 0,
) -> keras.Model:
    """Fit a `probe_model` on ``x`` [N, T, D] -> ``y`` [N, O] with MSE and Adam, seeded.

    Gradients are clipped to norm 1 (the usual guard for recurrent nets). ``epochs=0``
    returns the untrained probe. ``memory``: see `recurrent_layer`.

    Returns the model; its recurrent layer is ``model.get_layer("recurrent")``.
    """
    x = np.asarray(x, dtype=np.float32)
    y = np.asarray(y, dtype=np.float32).reshape(len(y), -1)
    keras.utils.set_random_seed(seed)
    model = probe_model(kind, units, x.shape[1], x.shape[2], y.shape[1], seed, memory)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate, clipnorm=1.0), loss="mse")
    if epochs > 0:
        history = model.fit(
            x, y, epochs=epochs, batch_size=batch_size, shuffle=True, verbose=verbose
        )
        log.info(
            "%s probe: %d epochs on %d windows, training loss %.4f",
            LABELS[kind],
            epochs,
            len(x),
            history.history["loss"][-1],
        )
    else:
        model.build(x.shape)
    return model


def _cell_of(layer):
    cell = getattr(layer, "cell", None)
    if cell is None:
        raise ValueError(
            f"layer {layer.name!r} ({type(layer).__name__}) is not a recurrent layer with a cell"
        )
    if getattr(layer, "go_backwards", False):
        raise ValueError(f"layer {layer.name!r} runs backwards; the measure assumes forward time")
    return cell


def _state_sizes(cell) -> list[int]:
    size = cell.state_size
    return [int(s) for s in size] if isinstance(size, (list, tuple)) else [int(size)]


def state_gradient_norms(layer, x: np.ndarray) -> np.ndarray:
    """``‖∂h_T/∂s_{T−d}‖_F`` for ``d = 0 … T``, averaged over the batch of windows ``x`` [B, T, D].

    ``layer`` is a built Keras RNN layer (or a cell); its weights are used as they are.
    """
    import tensorflow as tf

    cell = _cell_of(layer) if hasattr(layer, "cell") else layer
    x = np.asarray(x, dtype=np.float32)
    if x.ndim != 3:
        raise ValueError(f"`x` must be [batch, steps, features], received shape {x.shape}")
    batch, steps, _ = x.shape
    sizes = _state_sizes(cell)
    units = sizes[0]  # h comes first in every Keras cell's state
    # Copy j of the batch back-propagates unit j of h_T: [B, T, D] -> [H*B, T, D]
    tiled = tf.constant(np.tile(x, (units, 1, 1)))
    selector = tf.constant(np.repeat(np.eye(units, dtype=np.float32), batch, axis=0))  # [H*B, H]
    with tf.GradientTape() as tape:
        states = [tf.zeros((units * batch, s)) for s in sizes]
        for s in states:
            tape.watch(s)
        history = [states]
        for t in range(steps):
            _, new = cell(tiled[:, t], states, training=False)  # [H*B, D], [[H*B, S]] -> new states
            states = list(new) if isinstance(new, (list, tuple)) else [new]
            history.append(states)
        target = tf.reduce_sum(states[0] * selector)
    flat = [s for step in history for s in step]
    grads = tape.gradient(target, flat, unconnected_gradients=tf.UnconnectedGradients.ZERO)
    per_state = len(sizes)
    norms = np.empty(steps + 1)
    for t in range(steps + 1):
        sq = np.zeros(batch)
        for g in grads[t * per_state : (t + 1) * per_state]:
            g = np.asarray(g, dtype=np.float64).reshape(
                units, batch, -1
            )  # [H, B, S]: rows of the Jacobian
            sq += np.sum(g * g, axis=(0, 2))
        norms[steps - t] = float(np.mean(np.sqrt(sq)))  # indexed by distance T - t
    return norms


def gradient_flow(
    layers: dict[str, keras.layers.Layer], x: np.ndarray | dict[str, np.ndarray]
) -> GradientFlow:
    """`state_gradient_norms` of several layers, each on its window(s).

    ``x`` is one array for all layers, or a dict with one array per label (e.g. a layer of
    a stack sees the sequence of the layer below it). Windows may differ in length (a segment
    network's layer reads L/w segments where a probe reads L steps): the flow spans the
    longest, and a shorter window's norms are NaN beyond its own length.
    """
    if not layers:
        raise ValueError("no layers given")
    measured = {}
    for label, layer in layers.items():
        xs = x[label] if isinstance(x, dict) else x
        norms = state_gradient_norms(layer, xs)
        own = len(norms) - 1
        measured[label] = norms
        log.info(
            "gradient flow %s: ‖∂h_T/∂h_t‖ = %.3g at distance %d, %.3g at the far end (%d steps)",
            label,
            norms[min(10, own)],
            min(10, own),
            far_mean(norms),
            own,
        )
    steps = max(len(n) for n in measured.values()) - 1
    flow = GradientFlow(steps)
    for label, norms in measured.items():
        flow.norms[label] = np.concatenate([norms, np.full(steps + 1 - len(norms), np.nan)])
    return flow


def copy_first_task(n: int, steps: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A long-memory task: ``x`` [n, steps, 1] is Gaussian noise, the target is ``x[:, 0, 0]``.

    The only information about the target is ``steps`` steps before the end of the window,
    so a model learns it only through gradients that survive that distance.
    """
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, steps, 1)).astype(np.float32)
    return x, x[:, 0, :].copy()


def plot_gradient_flow(
    path,
    flow: GradientFlow,
    title: str = "Gradient flow through time",
    highlight: tuple[str, ...] = (),
) -> None:
    """Norm of ∂h_T/∂h_t against the distance T − t, log scale, one line per layer.

    Labels in ``highlight`` (e.g. the trained model's own layers) are drawn thick and solid,
    the others thinner and dashed.
    """
    from forecasting.diagnostics.plotting import figure, save

    fig, ax = figure(figsize=(8, 4.5))
    d = flow.distances
    floor = np.finfo(np.float32).tiny  # a norm that underflowed to 0 stays on the log axis
    for label, norms in flow.norms.items():
        strong = not highlight or label in highlight
        ax.plot(
            d,
            np.maximum(norms, floor),
            lw=2.4 if strong else 1.5,
            ls="-" if strong else "--",
            label=label,
        )
    ax.set_yscale("log")
    ax.set_xlabel("distance T − t (steps back from the last state)")
    ax.set_ylabel("‖∂h_T / ∂h_t‖ (mean over windows)")
    ax.set_title(title, fontsize=11)
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=9)
    for i, note in enumerate(flow.notes):
        ax.text(0.01, 0.02 + 0.05 * i, note, transform=ax.transAxes, fontsize=8, color="0.35")
    save(fig, path)
