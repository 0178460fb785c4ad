"""Experiments: the tracked LSTM-then-GRU comparison."""
