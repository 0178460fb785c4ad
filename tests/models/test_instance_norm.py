"""Per-window instance normalisation: undone exactly by its denormalisation, the identity
before training when affine, and blind to a window's level (and, when scaling, its size)."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from forecasting.models.instance_norm import InstanceDenorm, InstanceNorm

B, L, F = 6, 24, 3
TOL = {"rtol": 1e-5, "atol": 1e-5}
SETTINGS = [
    pytest.param(
        center,
        scale,
        affine,
        id=f"{center}-{'scale' if scale else 'noscale'}-{'affine' if affine else 'plain'}",
    )
    for center in ("last", "mean")
    for scale in (True, False)
    for affine in (False, True)
]


def windows(seed: int = 0, level: float = 50.0, size: float = 10.0) -> np.ndarray:
    """[B, L, F] windows: a target at a level with variation of some size, then two other features."""
    rng = np.random.default_rng(seed)
    past = rng.normal(size=(B, L, F)).astype("float32")
    past[:, :, 0] = level + size * past[:, :, 0]
    return past


def normalise(layer: InstanceNorm, past: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return tuple(np.asarray(t) for t in layer(past))


@pytest.mark.parametrize(("center", "scale", "affine"), SETTINGS)
def test_denormalise_after_normalise_is_the_identity(center, scale, affine):
    layer = InstanceNorm(center, scale, affine)
    past = windows()
    layer(past)  # build
    if affine:  # a trained gain and bias, so the check covers more than the starting identity
        layer.set_weights([np.float32(1.7), np.float32(-0.4)])
    past_norm, loc, std = normalise(layer, past)
    back = np.asarray(InstanceDenorm()([past_norm[:, :, 0], loc, std]))
    np.testing.assert_allclose(back, past[:, :, 0], **TOL)
    np.testing.assert_array_equal(
        past_norm[:, :, 1:], past[:, :, 1:]
    )  # other features pass through


@pytest.mark.parametrize("center", ["last", "mean"])
@pytest.mark.parametrize("scale", [True, False])
def test_affine_starts_as_the_identity(center, scale):
    past = windows(seed=1)
    affine = InstanceNorm(center, scale, affine=True)
    plain = InstanceNorm(center, scale, affine=False)
    with_affine, without = normalise(affine, past), normalise(plain, past)
    assert [float(w) for w in affine.get_weights()] == [1.0, 0.0]  # gain, bias
    for a, b in zip(with_affine, without, strict=True):
        np.testing.assert_allclose(a, b, **TOL)
    assert plain.get_weights() == [], "no weights without affine"


@pytest.mark.parametrize(("center", "scale", "affine"), SETTINGS)
def test_a_window_shifted_by_a_constant_normalises_the_same(center, scale, affine):
    past = windows(seed=2, level=0.0, size=1.0)
    shifted = past.copy()
    shifted[:, :, 0] += 250.0
    layer = InstanceNorm(center, scale, affine)
    np.testing.assert_allclose(
        normalise(layer, shifted)[0], normalise(layer, past)[0], rtol=1e-4, atol=1e-4
    )


@pytest.mark.parametrize("center", ["last", "mean"])
@pytest.mark.parametrize("affine", [False, True])
@pytest.mark.parametrize("factor", [0.5, 3.0, 40.0])
def test_a_window_scaled_by_a_positive_factor_normalises_the_same_when_scaling(
    center, affine, factor
):
    past = windows(seed=3)
    scaled = past.copy()
    scaled[:, :, 0] *= factor
    layer = InstanceNorm(center, scale=True, affine=affine)
    np.testing.assert_allclose(normalise(layer, scaled)[0], normalise(layer, past)[0], **TOL)
    unscaled = InstanceNorm(center, scale=False)
    assert not np.allclose(normalise(unscaled, scaled)[0], normalise(unscaled, past)[0]), (
        "centring alone keeps size"
    )


@pytest.mark.parametrize(
    ("center", "expected"),
    [("last", lambda y: y[:, -1:]), ("mean", lambda y: y.mean(1, keepdims=True))],
)
def test_statistics_are_the_windows_own(center, expected):
    past = windows(seed=4)
    y = past[:, :, 0].astype(np.float64)
    past_norm, loc, std = normalise(InstanceNorm(center, scale=True), past)
    assert loc.shape == std.shape == (B, 1)
    np.testing.assert_allclose(loc, expected(y), **TOL)
    np.testing.assert_allclose(std, y.std(axis=1, keepdims=True) + 1e-5, rtol=1e-5)
    np.testing.assert_allclose(past_norm[:, :, 0], (y - expected(y)) / std, rtol=1e-4, atol=1e-5)
    _, _, ones = normalise(InstanceNorm(center, scale=False), past)
    np.testing.assert_array_equal(ones, np.ones((B, 1)))


def test_a_flat_window_stays_finite():
    past = np.full((2, L, F), 7.0, dtype="float32")
    for center in ("last", "mean"):
        past_norm, loc, std = normalise(InstanceNorm(center), past)
        assert np.isfinite(past_norm).all() and np.isfinite(std).all()
        np.testing.assert_array_equal(past_norm[:, :, 0], 0.0)
        np.testing.assert_array_equal(loc, 7.0)


def test_config_round_trip_and_invalid_arguments():
    layer = InstanceNorm("mean", scale=False, affine=True, epsilon=1e-3, name="norm")
    again = InstanceNorm.from_config(layer.get_config())
    assert (again.center, again.scale, again.affine, again.epsilon, again.name) == (
        "mean",
        False,
        True,
        1e-3,
        "norm",
    )
    with pytest.raises(ValueError, match="`center` must be one of"):
        InstanceNorm("median")
    with pytest.raises(ValueError, match="`epsilon` must be positive"):
        InstanceNorm(epsilon=0.0)


def test_keras_file_round_trip(tmp_path):
    past = keras.Input((L, F))
    norm, loc, std = InstanceNorm("mean", affine=True, name="instance_norm")(past)
    out = InstanceDenorm()([norm[:, :, 0], loc, std])
    model = keras.Model(past, [norm, out])
    model.get_layer("instance_norm").set_weights([np.float32(2.0), np.float32(0.3)])
    x = windows(seed=5)
    before = [np.asarray(t) for t in model(x)]
    model.save(tmp_path / "norm.keras")
    reloaded = keras.saving.load_model(tmp_path / "norm.keras", compile=False)
    for a, b in zip([np.asarray(t) for t in reloaded(x)], before, strict=True):
        np.testing.assert_array_equal(a, b)
