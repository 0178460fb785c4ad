"""Windowing: long-format series -> (lookback -> horizon) tensors, split by time without leakage."""

from forecasting.windowing.dataset import WindowedData, Windows, make_windows
from forecasting.windowing.splits import SeriesSplit, WindowSpec, min_length, split_series

__all__ = [
    "SeriesSplit",
    "WindowSpec",
    "WindowedData",
    "Windows",
    "make_windows",
    "min_length",
    "split_series",
]
