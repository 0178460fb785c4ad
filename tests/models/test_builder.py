"""One builder for both families and both architectures: output shapes for every recurrent
implementation, the naive forecast an untrained model starts from, and `.keras` save and
reload. ``pointwise`` is the stack of recurrent layers over every step; ``segment`` (the
default) normalises each window, reads the lookback as segments and decodes in parallel."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from forecasting.errors import ConfigError
from forecasting.models.baselines import naive, seasonal_naive
from forecasting.models.builder import ModelSpec, build_forecaster
from forecasting.models.segment import choose_segment

L, H, F, K = 48, 12, 5, 4  # lookback, horizon, features (target first), calendar features
PERIOD = 24
BATCH = 7
# The segment network undoes its per-window normalisation in float32: (y - loc) / std * std + loc
# is the naive value up to rounding, not bit for bit.
NORM_TOL = {"rtol": 1e-5, "atol": 1e-5}

SPECS = [
    pytest.param("lstm", "custom", id="lstm"),
    pytest.param("gru", "custom", id="gru-custom"),
    pytest.param("gru", "cell", id="gru-cell"),
    pytest.param("gru", "keras", id="gru-keras"),
]


def recurrent_kind(cell: str, impl: str) -> type:
    from forecasting import layers

    if cell == "lstm":
        return keras.layers.LSTM
    return {"keras": keras.layers.GRU, "cell": keras.layers.RNN, "custom": layers.GRU}[impl]


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


def pointwise(**kwargs) -> ModelSpec:
    return ModelSpec(arch="pointwise", **{"units": 8} | kwargs)


def segment(**kwargs) -> ModelSpec:
    return ModelSpec(arch="segment", **{"units": 8} | kwargs)


def snaive(inputs: dict[str, np.ndarray], period: int = PERIOD) -> np.ndarray:
    return np.concatenate(
        [seasonal_naive(w[:, 0], np.array([L - 1]), H, period) for w in inputs["past"]]
    )


def last_value(inputs: dict[str, np.ndarray]) -> np.ndarray:
    return np.concatenate([naive(w[:, 0], np.array([L - 1]), H) for w in inputs["past"]])


def window_mean(inputs: dict[str, np.ndarray]) -> np.ndarray:
    return np.repeat(
        inputs["past"][:, :, 0].astype(np.float64).mean(axis=1, keepdims=True), H, axis=1
    )


def test_the_default_architecture_is_segment():
    assert ModelSpec().arch == "segment"


# --- pointwise --------------------------------------------------------------------------------


@pytest.mark.parametrize(("cell", "impl"), SPECS)
@pytest.mark.parametrize("layers", [1, 2])
def test_pointwise_output_is_batch_by_horizon(cell, impl, layers):
    spec = pointwise(gru_impl=impl, layers=layers, dropout=0.1 if layers == 2 else 0.0)
    model = build_forecaster(cell, spec, L, H, F, K, PERIOD)
    assert model.output_shape == (None, H)
    out = forecast(model, batch())
    assert out.shape == (BATCH, H)
    assert np.isfinite(out).all()
    recurrent = [layer for layer in model.layers if layer.name.startswith(cell)]
    assert len(recurrent) == layers


def test_pointwise_each_gru_impl_builds_its_own_layer():
    kinds = {}
    for impl in ("custom", "cell", "keras"):
        model = build_forecaster("gru", pointwise(gru_impl=impl), L, H, F, K, PERIOD)
        kinds[impl] = type(model.get_layer("gru_0"))
    assert kinds["keras"] is keras.layers.GRU
    assert kinds["cell"] is keras.layers.RNN
    assert kinds["custom"] not in (keras.layers.GRU, keras.layers.RNN)
    assert issubclass(kinds["custom"], keras.layers.Layer)


@pytest.mark.parametrize(("cell", "impl"), SPECS)
def test_pointwise_untrained_seasonal_skip_forecasts_exactly_seasonal_naive(cell, impl):
    inputs = batch(seed=2)
    model = build_forecaster(cell, pointwise(gru_impl=impl, skip="seasonal"), L, H, F, K, PERIOD)
    np.testing.assert_array_equal(forecast(model, inputs), snaive(inputs))


def test_pointwise_season_longer_than_lookback_and_last_skip_fall_back_to_last_value():
    inputs = batch(seed=3)
    expected = last_value(inputs)
    too_long = build_forecaster("gru", pointwise(skip="seasonal"), L, H, F, K, period=L + 1)
    np.testing.assert_array_equal(forecast(too_long, inputs), expected)
    last = build_forecaster("gru", pointwise(skip="last"), L, H, F, K, PERIOD)
    np.testing.assert_array_equal(forecast(last, inputs), expected)


def test_pointwise_no_skip_forecasts_the_level_directly():
    inputs = batch(seed=4)
    model = build_forecaster("gru", pointwise(skip="none"), L, H, F, K, PERIOD)
    assert "naive_base" not in [layer.name for layer in model.layers]
    assert not np.allclose(forecast(model, inputs), snaive(inputs))


@pytest.mark.parametrize(("cell", "impl"), SPECS)
def test_pointwise_keras_file_round_trip_gives_identical_forecasts(cell, impl, tmp_path):
    keras.utils.set_random_seed(5)
    model = build_forecaster(cell, pointwise(gru_impl=impl, layers=2), L, H, F, K, PERIOD)
    scramble_weights(model)
    inputs = batch(seed=6)
    before = forecast(model, inputs)
    assert not np.allclose(before, snaive(inputs)), (
        "the correction head must contribute, or the check is empty"
    )

    path = tmp_path / f"{cell}-{impl}.keras"
    model.save(path)
    reloaded = keras.saving.load_model(path, compile=False)
    np.testing.assert_array_equal(forecast(reloaded, inputs), before)
    assert [type(layer) for layer in reloaded.layers] == [type(layer) for layer in model.layers]
    assert reloaded.get_layer("naive_base").get_config()["period"] == PERIOD


# --- segment ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("cell", "impl"), SPECS)
@pytest.mark.parametrize(
    ("seg", "expected_seg"), [("auto", PERIOD), (5, 5)], ids=["seg-auto", "seg-5"]
)
def test_segment_output_is_batch_by_horizon(cell, impl, seg, expected_seg):
    """Segment 5 divides neither the lookback (the oldest 3 steps are not read) nor the horizon
    (the last output segment is cut), so both paddings are exercised."""
    spec = segment(gru_impl=impl, segment=seg, dropout=0.1)
    model = build_forecaster(cell, spec, L, H, F, K, PERIOD)
    assert model.output_shape == (None, H)
    out = forecast(model, batch())
    assert out.shape == (BATCH, H)
    assert np.isfinite(out).all()
    core = model.get_layer("segment_rnn")
    assert core.segment == expected_seg
    assert core.cell == cell
    assert type(core.rnn) is recurrent_kind(cell, impl)
    # One recurrent layer, inside the segment core: none at the model's top level.
    assert not [layer for layer in model.layers if layer.name.startswith(cell)]


def test_segment_each_gru_impl_builds_its_own_layer():
    kinds = {}
    for impl in ("custom", "cell", "keras"):
        model = build_forecaster("gru", segment(gru_impl=impl), L, H, F, K, PERIOD)
        kinds[impl] = type(model.get_layer("segment_rnn").rnn)
    assert kinds["keras"] is keras.layers.GRU
    assert kinds["cell"] is keras.layers.RNN
    assert kinds["custom"] is recurrent_kind("gru", "custom")
    assert kinds["custom"] not in (keras.layers.GRU, keras.layers.RNN, keras.layers.LSTM)
    lstm = build_forecaster("lstm", segment(gru_impl="keras"), L, H, F, K, PERIOD)
    assert type(lstm.get_layer("segment_rnn").rnn) is keras.layers.LSTM, (
        "gru_impl does not touch the LSTM"
    )


@pytest.mark.parametrize(("cell", "impl"), SPECS)
def test_segment_untrained_seasonal_skip_forecasts_seasonal_naive(cell, impl):
    inputs = batch(seed=2)
    model = build_forecaster(cell, segment(gru_impl=impl, skip="seasonal"), L, H, F, K, PERIOD)
    np.testing.assert_allclose(forecast(model, inputs), snaive(inputs), **NORM_TOL)


@pytest.mark.parametrize("center", ["last", "mean"])
@pytest.mark.parametrize("scale", [True, False])
@pytest.mark.parametrize("affine", [False, True])
def test_segment_untrained_naive_base_whatever_the_normalisation(center, scale, affine):
    """The normalisation is undone exactly (affine starts as the identity), so the untrained
    forecast is the naive base in the data's units for every centring and scaling."""
    inputs = batch(seed=7)
    spec = segment(skip="seasonal", center=center, scale=scale, affine=affine)
    model = build_forecaster("gru", spec, L, H, F, K, PERIOD)
    np.testing.assert_allclose(forecast(model, inputs), snaive(inputs), **NORM_TOL)


def test_segment_season_longer_than_lookback_and_last_skip_fall_back_to_last_value():
    inputs = batch(seed=3)
    expected = last_value(inputs)
    too_long = build_forecaster(
        "gru", segment(skip="seasonal", segment=8), L, H, F, K, period=L + 1
    )
    assert too_long.get_layer("naive_base").period == 1
    np.testing.assert_allclose(forecast(too_long, inputs), expected, **NORM_TOL)
    last = build_forecaster("gru", segment(skip="last"), L, H, F, K, PERIOD)
    assert last.get_layer("naive_base").period == 1
    np.testing.assert_allclose(forecast(last, inputs), expected, **NORM_TOL)


@pytest.mark.parametrize(("center", "expected"), [("last", last_value), ("mean", window_mean)])
def test_segment_no_skip_forecasts_the_window_centre(center, expected):
    inputs = batch(seed=4)
    model = build_forecaster("gru", segment(skip="none", center=center), L, H, F, K, PERIOD)
    assert "naive_base" not in [layer.name for layer in model.layers]
    out = forecast(model, inputs)
    np.testing.assert_allclose(out, expected(inputs), **NORM_TOL)
    assert not np.allclose(out, snaive(inputs))


@pytest.mark.parametrize(("cell", "impl"), SPECS)
@pytest.mark.parametrize("affine", [False, True])
def test_segment_keras_file_round_trip_gives_identical_forecasts(cell, impl, affine, tmp_path):
    keras.utils.set_random_seed(5)
    spec = segment(gru_impl=impl, segment=5, affine=affine, center="mean")
    model = build_forecaster(cell, spec, L, H, F, K, PERIOD)
    scramble_weights(model)
    inputs = batch(seed=6)
    before = forecast(model, inputs)
    assert np.isfinite(before).all()
    assert not np.allclose(before, snaive(inputs)), (
        "the correction head must contribute, or the check is empty"
    )

    path = tmp_path / f"{cell}-{impl}.keras"
    model.save(path)
    reloaded = keras.saving.load_model(path, compile=False)
    np.testing.assert_array_equal(forecast(reloaded, inputs), before)
    assert [type(layer) for layer in reloaded.layers] == [type(layer) for layer in model.layers]
    assert reloaded.get_layer("naive_base").get_config()["period"] == PERIOD
    for name in ("segment_rnn", "instance_norm"):
        assert reloaded.get_layer(name).get_config() == model.get_layer(name).get_config(), name
    assert type(reloaded.get_layer("segment_rnn").rnn) is type(model.get_layer("segment_rnn").rnn)


def test_auto_segment_is_chosen_from_the_lookback_and_season():
    for lookback, period in [(48, 24), (60, 24), (30, 7), (40, 1)]:
        model = build_forecaster("gru", segment(), lookback, H, F, K, period)
        assert model.get_layer("segment_rnn").segment == choose_segment(lookback, period)


# --- both -------------------------------------------------------------------------------------


@pytest.mark.parametrize("arch", ["pointwise", "segment"])
def test_units_still_auto_cannot_be_built(arch):
    with pytest.raises(ConfigError) as err:
        build_forecaster("gru", ModelSpec(arch=arch), L, H, F, K, PERIOD)
    assert (
        str(err.value)
        == "model.units is 'auto': choose it from the data first (forecast compare does)"
    )


def test_segment_longer_than_the_lookback_is_a_config_error():
    with pytest.raises(ConfigError) as err:
        build_forecaster("gru", segment(segment=L + 1), L, H, F, K, PERIOD)
    assert str(err.value) == f"segment length {L + 1} is longer than the lookback {L}"


@pytest.mark.parametrize("arch", ["pointwise", "segment"])
def test_unknown_cell_is_a_config_error(arch):
    with pytest.raises(ConfigError) as err:
        build_forecaster("rnn", ModelSpec(arch=arch, units=8), L, H, F, K, PERIOD)
    assert str(err.value) == "cell must be one of lstm, gru, received: 'rnn'"


def test_impl_tag_names_the_gru_implementation_only():
    spec = ModelSpec(gru_impl="keras")
    assert spec.impl_tag("gru") == "keras"
    assert spec.impl_tag("lstm") == "n/a"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"cell": "gru"}, "unknown key 'model.cell'"),
        ({"arch": "x"}, "model.arch: Input should be 'segment' or 'pointwise' (received 'x')"),
        (
            {"gru_impl": "cudnn"},
            "model.gru_impl: Input should be 'custom', 'cell' or 'keras' (received 'cudnn')",
        ),
        ({"units": 0}, "model.units: Input should be greater than 0 (received 0)"),
        ({"layers": 0}, "model.layers: Input should be greater than 0 (received 0)"),
        ({"segment": 0}, "model.segment: Input should be greater than 0 (received 0)"),
        ({"dropout": 1.0}, "model.dropout: Input should be less than 1 (received 1.0)"),
        (
            {"skip": "weekly"},
            "model.skip: Input should be 'seasonal', 'last' or 'none' (received 'weekly')",
        ),
        (
            {"center": "median"},
            "model.center: Input should be 'last' or 'mean' (received 'median')",
        ),
    ],
)
def test_invalid_spec_names_the_value(kwargs, message):
    with pytest.raises(ConfigError) as err:
        ModelSpec(**kwargs)
    assert str(err.value) == message


def test_spec_takes_keywords_only_and_is_frozen():
    with pytest.raises(TypeError):
        ModelSpec("gru")
    with pytest.raises(ValueError, match="frozen"):
        ModelSpec().units = 8


@pytest.mark.parametrize("arch", ["pointwise", "segment"])
def test_training_that_only_hurts_keeps_the_starting_weights(arch, caplog):
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
    windowed = make_windows(
        data, WindowSpec(lookback=48, horizon=12, val_fraction=0.15, test_fraction=0.25)
    )
    keras.utils.set_random_seed(0)
    model = build_forecaster(
        "gru",
        ModelSpec(arch=arch, units=16, skip="seasonal"),
        48,
        12,
        windowed.n_features,
        windowed.n_calendar,
        24,
        windowed.calendar_names,
    )
    budget = TrainBudget(max_epochs=3, patience=3, batch_size=32, learning_rate=0.01)
    result = train(model, windowed, budget, period=24)
    assert result.best_epoch == 0, result
    assert min(result.val_loss) > result.initial_val_loss
    assert "keeping the starting weights" in caplog.text
    kept = model_backtest("gru", model, windowed, 24).forecasts
    np.testing.assert_allclose(
        kept, baseline_backtest("seasonal_naive", windowed, 24).forecasts, atol=1e-4
    )


def with_channels(inputs: dict[str, np.ndarray], channel: np.ndarray) -> dict[str, np.ndarray]:
    return inputs | {"channel": channel.astype("int32")}


@pytest.mark.parametrize("cell", ["gru", "lstm"])
def test_a_multichannel_target_adds_a_channel_input_and_starts_as_its_naive_base(cell):
    """Each target column gets an embedding, but the output head starts at zero, so an untrained
    network still forecasts exactly its naive base whatever the channel."""
    model = build_forecaster(cell, segment(skip="seasonal"), L, H, F, K, PERIOD, n_channels=3)
    assert sorted(model.input.keys()) == ["channel", "future", "past"]
    inputs = batch(seed=8)
    for c in range(3):
        out = forecast(model, with_channels(inputs, np.full(BATCH, c)))
        np.testing.assert_allclose(out, snaive(inputs), **NORM_TOL)


def test_the_channel_embedding_tells_the_columns_apart_and_survives_a_round_trip(tmp_path):
    keras.utils.set_random_seed(9)
    model = build_forecaster("gru", segment(segment=12), L, H, F, K, PERIOD, n_channels=2)
    scramble_weights(model)
    inputs = batch(seed=10)
    first = forecast(model, with_channels(inputs, np.zeros(BATCH)))
    second = forecast(model, with_channels(inputs, np.ones(BATCH)))
    assert not np.allclose(first, second), "the same window in another column reads differently"
    mixed = forecast(model, with_channels(inputs, np.arange(BATCH) % 2))
    np.testing.assert_allclose(mixed[::2], first[::2], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(mixed[1::2], second[1::2], rtol=1e-5, atol=1e-6)
    path = tmp_path / "channels.keras"
    model.save(path)
    reloaded = keras.saving.load_model(path, compile=False)
    assert reloaded.get_layer("segment_rnn").get_config()["n_channels"] == 2
    np.testing.assert_array_equal(forecast(reloaded, with_channels(inputs, np.ones(BATCH))), second)


def test_one_channel_needs_no_embedding_and_pointwise_refuses_several():
    one = build_forecaster("gru", segment(), L, H, F, K, PERIOD, n_channels=1)
    assert sorted(one.input.keys()) == ["future", "past"]
    assert one.get_layer("segment_rnn").channel_embedding is None
    with pytest.raises(ConfigError, match="needs model.arch 'segment'"):
        build_forecaster("gru", pointwise(), L, H, F, K, PERIOD, n_channels=7)
