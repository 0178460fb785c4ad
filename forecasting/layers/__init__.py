"""Keras layers of the product: the GRU cell and the full-sequence GRU layer."""

from forecasting.layers.gru import GRU
from forecasting.layers.gru_cell import GRUCell

__all__ = ["GRU", "GRUCell"]
