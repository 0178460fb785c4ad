"""Training on windows sampled per epoch (``training.windows_per_series``) repeats exactly."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from forecasting.config import TrainBudget
from forecasting.data import load_series
from forecasting.models.builder import ModelSpec, build_forecaster
from forecasting.models.training import train
from forecasting.windowing import WindowSpec, make_windows


@pytest.fixture(scope="module")
def windowed():
    from tests.conftest import make_panel

    data = load_series(make_panel(3, 24 * 20, seed=1), name="t")
    return make_windows(data, WindowSpec(lookback=48, horizon=12))


def fit(windowed, per_series, caplog=None):
    keras.utils.set_random_seed(0)
    model = build_forecaster(
        "gru",
        ModelSpec(arch="segment", units=8, segment=24, skip="seasonal"),
        48,
        12,
        windowed.n_features,
        windowed.n_calendar,
        24,
        windowed.calendar_names,
    )
    budget = TrainBudget(
        max_epochs=2, patience=2, batch_size=16, learning_rate=0.01, windows_per_series=per_series
    )
    result = train(model, windowed, budget, verbose=0, period=24)
    return result, model.get_weights()


def test_the_same_seed_trains_the_same_weights_on_sampled_windows(windowed, caplog):
    caplog.set_level("INFO")
    first, weights = fit(windowed, 10)
    again, weights_again = fit(windowed, 10)
    assert first.loss == again.loss and first.val_loss == again.val_loss
    assert all(np.array_equal(a, b) for a, b in zip(weights, weights_again, strict=True))
    assert "30 of" in caplog.text and "at most 10 of each of 3 series" in caplog.text
    # The budget takes effect: every window each epoch trains another network.
    everything, _ = fit(windowed, None)
    assert everything.loss != first.loss
