"""GRU gate inspection: the update gate z and the reset gate r of every unit at every step.

A trained forecaster runs its GRU with a fused kernel that never exposes the gates. To read
them, the layer's weights are copied into ``keras.layers.RNN(GRUCell(return_gates=True))``,
which computes the same states and also returns ``z`` and ``r`` (see
`forecasting.layers.GRUCell`). The weight layout is Keras's (gates side by side in z, r, h
order), so the copy works from the product's `forecasting.layers.GRU`, from
``keras.layers.RNN(forecasting.layers.GRUCell(...))`` and from ``keras.layers.GRU`` alike.

Reading the pictures: z near 1 keeps the past (the state and its gradient pass through the
step almost unchanged); z near 0 replaces the state with the candidate. r near 0 lets the
candidate ignore the previous state (a fresh start from the current input).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import keras
import numpy as np
from keras import activations

__all__ = [
    "GateTrace",
    "gate_reader",
    "gru_layers",
    "is_gru_layer",
    "layer_inputs",
    "plot_gates",
    "read_gates",
    "recurrent_layers",
]

log = logging.getLogger(__name__)


@dataclass
class GateTrace:
    """States and gates of one GRU layer over a batch of windows, each [B, T, H]."""

    h: np.ndarray
    z: np.ndarray
    r: np.ndarray

    @property
    def units(self) -> int:
        return self.h.shape[-1]

    def summary(self) -> dict[str, float]:
        """Mean gates and the share of (window, step, unit) cells where z keeps > 90 % of the past."""
        return {
            "z_mean": float(self.z.mean()),
            "r_mean": float(self.r.mean()),
            "z_above_0.9": float((self.z > 0.9).mean()),
        }


def _our_cell_class():
    from forecasting.layers import GRUCell

    return GRUCell


def is_gru_layer(layer) -> bool:
    """True for a full-sequence GRU whose weights have Keras's layout (ours or Keras's)."""
    from forecasting.layers import GRU

    if isinstance(layer, (GRU, keras.layers.GRU)):
        return True
    return isinstance(layer, keras.layers.RNN) and isinstance(
        layer.cell, (_our_cell_class(), keras.layers.GRUCell)
    )


def recurrent_layers(model: keras.Model) -> list[keras.layers.Layer]:
    """The model's recurrent layers (anything with a cell), in the order they were added; a
    segment network contributes the recurrent layer inside it (which reads segment embeddings)."""
    from forecasting.models.segment import SegmentRecurrent

    found = []
    for layer in model.layers:
        if isinstance(layer, SegmentRecurrent):
            found.append(layer.rnn)
        elif isinstance(getattr(layer, "cell", None), keras.layers.Layer):
            found.append(layer)
    return found


def gru_layers(model: keras.Model) -> list[keras.layers.Layer]:
    return [layer for layer in recurrent_layers(model) if is_gru_layer(layer)]


def layer_inputs(
    model: keras.Model, layers: list[keras.layers.Layer], inputs
) -> dict[str, np.ndarray]:
    """The sequence each of ``layers`` receives when ``model`` is called on ``inputs``.

    For a stack, layer k's input is the sequence of states of layer k − 1.
    """
    from forecasting.models.segment import SegmentRecurrent

    owners = {id(layer.rnn): layer for layer in model.layers if isinstance(layer, SegmentRecurrent)}
    # A segment network's recurrent layer has no node of its own in the model's graph: probe
    # the input of the layer that owns it, then embed the segments as it does.
    tensors = [
        owners[id(layer)].input[0] if id(layer) in owners else layer.input for layer in layers
    ]
    probe = keras.Model(model.inputs, tensors)
    outs = probe(inputs, training=False)
    outs = outs if isinstance(outs, (list, tuple)) else [outs]
    result = {}
    for layer, out in zip(layers, outs, strict=True):
        owner = owners.get(id(layer))
        result[layer.name] = np.asarray(owner.encoder_inputs(out) if owner is not None else out)
    return result


def gate_reader(layer) -> keras.layers.RNN:
    """``RNN(GRUCell(return_gates=True), return_sequences=True)`` with ``layer``'s weights.

    The new layer outputs ``concat([h, z, r], -1)`` [B, T, 3H] at every step.
    """
    if not is_gru_layer(layer):
        raise ValueError(
            f"layer {layer.name!r} ({type(layer).__name__}) is not a GRU: gates are defined for GRU layers only"
        )
    if getattr(layer, "go_backwards", False):
        raise ValueError(f"layer {layer.name!r} runs backwards; gate plots assume forward time")
    src = layer.cell
    cell = _our_cell_class()(
        src.units,
        activation=activations.serialize(src.activation),
        recurrent_activation=activations.serialize(src.recurrent_activation),
        use_bias=src.use_bias,
        reset_after=bool(src.reset_after),
        return_gates=True,
        name="gate_reader_cell",
    )
    reader = keras.layers.RNN(cell, return_sequences=True, name=f"{layer.name}_gates")
    input_dim = int(src.kernel.shape[0])
    reader.build((None, None, input_dim))
    reader.set_weights(layer.get_weights())  # [kernel [D, 3H], recurrent_kernel [H, 3H], bias]
    return reader


def read_gates(layer, x: np.ndarray) -> GateTrace:
    """Run ``layer``'s weights over ``x`` [B, T, D] and return its states and gates."""
    reader = gate_reader(layer)
    out = np.asarray(reader(np.asarray(x, dtype=np.float32)))  # [B, T, 3H]
    h, z, r = np.split(out, 3, axis=-1)  # 3 x [B, T, H]
    return GateTrace(h, z, r)


def plot_gates(
    path,
    series: np.ndarray,
    traces: dict[str, GateTrace],
    sample: int = 0,
    times=None,
    series_label: str = "input series",
    title: str = "",
) -> None:
    """The input series above heatmaps of z and r (unit x time step) of each GRU layer.

    ``series`` is [T] (what the window shows for ``sample``, e.g. the target on its own
    scale); ``traces`` maps a layer name to its `GateTrace` on the same windows.
    """
    from forecasting.diagnostics.plotting import figure, save

    series = np.asarray(series, dtype=float)
    steps = len(series)
    rows = 1 + 2 * len(traces)
    heights = [1.3] + [1.0] * (rows - 1)
    fig, axes = figure(
        rows,
        1,
        figsize=(11, 1.4 + 1.9 * rows),
        sharex=True,
        gridspec_kw={"height_ratios": heights},
        squeeze=False,
    )
    axes = axes[:, 0]
    x = np.arange(steps)
    axes[0].plot(x, series, color="black", lw=1.4)
    axes[0].set_ylabel(series_label, fontsize=9)
    if times is not None and len(times) == steps:
        axes[0].set_title(
            f"{title}\nwindow {times[0]} .. {times[-1]}"
            if title
            else f"window {times[0]} .. {times[-1]}",
            fontsize=10,
        )
    elif title:
        axes[0].set_title(title, fontsize=10)
    image = None
    for k, (name, trace) in enumerate(traces.items()):
        for j, (gate, meaning) in enumerate(
            (
                ("z", "update gate z (1 = keep the past)"),
                ("r", "reset gate r (0 = ignore the past)"),
            )
        ):
            ax = axes[1 + 2 * k + j]
            values = getattr(trace, gate)[sample].T  # [T, H] -> [H, T]: one row per unit
            image = ax.imshow(
                values,
                aspect="auto",
                origin="lower",
                cmap="viridis",
                vmin=0.0,
                vmax=1.0,
                interpolation="nearest",
                extent=(-0.5, steps - 0.5, -0.5, trace.units - 0.5),
            )
            ax.set_ylabel(f"{name}\nunit", fontsize=9)
            ax.set_title(meaning, fontsize=9, loc="left")
    axes[-1].set_xlabel("time step in the window (0 = oldest)")
    axes[-1].set_xlim(-0.5, steps - 0.5)
    fig.tight_layout()
    if image is not None:
        fig.colorbar(image, ax=list(axes), shrink=0.6, pad=0.01, label="gate value")
    save(fig, path, tight=False)
