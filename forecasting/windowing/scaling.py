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
