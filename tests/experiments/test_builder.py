"""One builder for both families: output shapes for every recurrent implementation, the
naive skip connection an untrained model starts from, and `.keras` save and reload."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from forecasting.errors import ConfigError
from forecasting.models.baselines import naive, seasonal_naive
from forecasting.models.builder import ModelSpec, build_forecaster

L, H, F, K = 48, 12, 5, 4  # lookback, horizon, features (target first), calendar features
PERIOD = 24
BATCH = 7

SPECS = [
    pytest.param("lstm", "custom", id="lstm"),
    pytest.param("gru", "custom", id="gru-custom"),
    pytest.param("gru", "cell", id="gru-cell"),
    pytest.param("gru", "keras", id="gru-keras"),
]


def batch(seed: int = 0, n: int = BATCH) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {
        "past": rng.normal(size=(n, L, F)).astype("float32"),
        "future": rng.normal(size=(n, H, K)).astype("float32"),
    }


def forecast(model: keras.Model, inputs: dict[str, np.ndarray]) -> np.ndarray:
    return np.asarray(model(inputs, training=False))


def scramble_weights(model: keras.Model, seed: int = 1) -> None:
    """Random non-zero weights everywhere, so the correction head contributes to the output."""
    rng = np.random.default_rng(seed)
    model.set_weights([rng.normal(0.0, 0.3, w.shape).astype(w.dtype) for w in model.get_weights()])


@pytest.mark.parametrize(("cell", "impl"), SPECS)
@pytest.mark.parametrize("layers", [1, 2])
def test_output_is_batch_by_horizon(cell, impl, layers):
    spec = ModelSpec(cell=cell, gru_impl=impl, units=8, layers=layers, dropout=0.1 if layers == 2 else 0.0)
    model = build_forecaster(spec, L, H, F, K, PERIOD)
    assert model.output_shape == (None, H)
    out = forecast(model, batch())
    assert out.shape == (BATCH, H)
    assert np.isfinite(out).all()
    recurrent = [layer for layer in model.layers if layer.name.startswith(cell)]
    assert len(recurrent) == layers


def test_each_gru_impl_builds_its_own_layer():
    kinds = {}
    for impl in ("custom", "cell", "keras"):
        model = build_forecaster(ModelSpec("gru", impl, units=8), L, H, F, K, PERIOD)
        kinds[impl] = type(model.get_layer("gru_0"))
    assert kinds["keras"] is keras.layers.GRU
    assert kinds["cell"] is keras.layers.RNN
    assert kinds["custom"] not in (keras.layers.GRU, keras.layers.RNN)
    assert issubclass(kinds["custom"], keras.layers.Layer)


@pytest.mark.parametrize(("cell", "impl"), SPECS)
def test_untrained_seasonal_skip_forecasts_exactly_seasonal_naive(cell, impl):
    inputs = batch(seed=2)
    model = build_forecaster(ModelSpec(cell, impl, units=8, skip="seasonal"), L, H, F, K, PERIOD)
    expected = np.concatenate(
        [seasonal_naive(window[:, 0], np.array([L - 1]), H, PERIOD) for window in inputs["past"]]
    )
    np.testing.assert_array_equal(forecast(model, inputs), expected)


def test_season_longer_than_lookback_and_last_skip_fall_back_to_last_value():
    inputs = batch(seed=3)
    expected = np.concatenate([naive(window[:, 0], np.array([L - 1]), H) for window in inputs["past"]])
    too_long = build_forecaster(ModelSpec("gru", units=8, skip="seasonal"), L, H, F, K, period=L + 1)
    np.testing.assert_array_equal(forecast(too_long, inputs), expected)
    last = build_forecaster(ModelSpec("gru", units=8, skip="last"), L, H, F, K, PERIOD)
    np.testing.assert_array_equal(forecast(last, inputs), expected)


def test_no_skip_forecasts_the_level_directly():
    inputs = batch(seed=4)
    model = build_forecaster(ModelSpec("gru", units=8, skip="none"), L, H, F, K, PERIOD)
    assert "naive_base" not in [layer.name for layer in model.layers]
    snaive = np.concatenate(
        [seasonal_naive(window[:, 0], np.array([L - 1]), H, PERIOD) for window in inputs["past"]]
    )
    assert not np.allclose(forecast(model, inputs), snaive)


@pytest.mark.parametrize(("cell", "impl"), SPECS)
def test_keras_file_round_trip_gives_identical_forecasts(cell, impl, tmp_path):
    keras.utils.set_random_seed(5)
    model = build_forecaster(ModelSpec(cell, impl, units=8, layers=2), L, H, F, K, PERIOD)
    scramble_weights(model)
    inputs = batch(seed=6)
    before = forecast(model, inputs)
    snaive = np.concatenate(
        [seasonal_naive(window[:, 0], np.array([L - 1]), H, PERIOD) for window in inputs["past"]]
    )
    assert not np.allclose(before, snaive), "the correction head must contribute, or the check is empty"

    path = tmp_path / f"{cell}-{impl}.keras"
    model.save(path)
    reloaded = keras.saving.load_model(path, compile=False)
    np.testing.assert_array_equal(forecast(reloaded, inputs), before)
    assert [type(layer) for layer in reloaded.layers] == [type(layer) for layer in model.layers]
    assert reloaded.get_layer("naive_base").get_config()["period"] == PERIOD


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"cell": "rnn"}, "cell must be one of lstm, gru, received: 'rnn'"),
        ({"gru_impl": "cudnn"}, "gru_impl must be one of"),
        ({"units": 0}, "units and layers must be positive"),
        ({"dropout": 1.0}, "dropout must be in [0, 1)"),
        ({"skip": "weekly"}, "skip must be one of"),
    ],
)
def test_invalid_spec_names_the_value(kwargs, message):
    with pytest.raises(ConfigError) as err:
        ModelSpec(**kwargs)
    assert message in str(err.value)


def test_training_that_only_hurts_keeps_the_starting_weights(caplog):
    """Validation and test are a pure daily cycle, which the seasonal skip already forecasts
    exactly; the training part is that cycle plus noise, so every epoch can only fit noise.
    The untrained network (= seasonal naive) must be what is kept, not the least bad epoch."""
    import pandas as pd

    from forecasting.data import load_series
    from forecasting.evaluation.backtest import baseline_backtest, model_backtest
    from forecasting.models.training import TrainBudget, train
    from forecasting.windowing import WindowSpec, make_windows

    n = 24 * 40
    times = pd.date_range("2024-01-01", periods=n, freq="h")
    y = 10.0 + np.sin(2 * np.pi * np.arange(n) / 24)
    noisy = int(n * 0.45)  # the validation windows and their look-backs are clean
    y[:noisy] += np.random.default_rng(0).normal(0, 1.0, noisy)
    data = load_series(pd.DataFrame({"ds": times, "y": y}), name="cycle")
    windowed = make_windows(data, WindowSpec(lookback=48, horizon=12, val_fraction=0.15, test_fraction=0.25))
    keras.utils.set_random_seed(0)
    model = build_forecaster(ModelSpec(cell="gru", units=16, skip="seasonal"), 48, 12, windowed.n_features,
                             windowed.n_calendar, 24)
    result = train(model, windowed, TrainBudget(max_epochs=3, patience=3, batch_size=32, learning_rate=0.01))
    assert result.best_epoch == 0, result
    assert min(result.val_loss) > result.initial_val_loss
    assert "keeping the starting weights" in caplog.text
    kept = model_backtest("gru", model, windowed, 24).forecasts
    np.testing.assert_allclose(kept, baseline_backtest("seasonal_naive", windowed, 24).forecasts, atol=1e-4)
