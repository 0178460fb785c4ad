"""Per-series scalers, fitted on the training part only and kept for the inverse transform."""

from __future__ import annotations

import numpy as np
from sklearn.preprocessing import StandardScaler


def fit_scaler(values: np.ndarray) -> StandardScaler:
    """Fit on [T, F] training values (NaNs ignored); constant columns keep scale 1."""
    return StandardScaler().fit(values)


def transform(scaler: StandardScaler, values: np.ndarray) -> np.ndarray:
    return scaler.transform(values).astype(np.float32)


def inverse_target(scaler: StandardScaler, y: np.ndarray) -> np.ndarray:
    """Undo the scaling of the target (column 0) for an array of any shape."""
    return y * scaler.scale_[0] + scaler.mean_[0]


def scaler_to_dict(scaler: StandardScaler) -> dict:
    """JSON-friendly state of a fitted scaler (what travels inside a packaged model)."""
    return {"mean": scaler.mean_.tolist(), "scale": scaler.scale_.tolist()}


def scaler_from_dict(state: dict) -> StandardScaler:
    scaler = StandardScaler()
    scaler.mean_ = np.asarray(state["mean"], dtype=np.float64)
    scaler.scale_ = np.asarray(state["scale"], dtype=np.float64)
    scaler.var_ = scaler.scale_**2
    scaler.n_features_in_ = len(scaler.mean_)
    scaler.n_samples_seen_ = 1
    return scaler
