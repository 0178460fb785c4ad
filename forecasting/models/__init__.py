"""Forecasting models: the recurrent forecaster builder, baselines and training."""
