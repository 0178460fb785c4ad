"""Evaluation: M4 metrics, rolling-origin backtests, paired tests and the LSTM-vs-GRU rule."""
