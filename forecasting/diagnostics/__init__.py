"""Diagnostics of recurrent forecasters: gradient flow through time and GRU gates.

- `gradient_flow`: ‖∂h_T/∂h_t‖ against the distance T − t for any Keras RNN layer, probes
  (SimpleRNN, GRU, LSTM of one size) and a long-memory task to train them on;
- `gates`: the update and reset gates of a GRU layer, read by copying its weights into
  ``keras.layers.RNN(GRUCell(return_gates=True))``;
- `report`: the ``forecast diagnose`` job (model URI + data in, PNGs out, logged to MLflow).

Submodules import TensorFlow; import them where needed.
"""

__all__ = ["gates", "gradient_flow", "report"]
