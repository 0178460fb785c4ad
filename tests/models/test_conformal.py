"""Split-conformal quantiles: the rank formula, the coverage it guarantees on exchangeable
windows, and the per-window scale that lets a calm window get a narrower interval."""

from __future__ import annotations

import logging
import math

import numpy as np
import pytest

from forecasting.models.conformal import (
    ALL_LEVELS,
    bounds,
    conformal_quantiles,
    lookback_scales,
    nonconformity,
    scale_floor,
)


def test_the_quantile_is_the_ceil_n_plus_1_p_th_smallest_score_of_each_step():
    rng = np.random.default_rng(0)
    scores = rng.random((19, 3))
    q = conformal_quantiles(scores)
    assert q.shape == (3, len(ALL_LEVELS))
    for level in (10, 50, 80, 95):
        k = math.ceil(20 * level / 100)  # n + 1 = 20
        expected = np.sort(scores, axis=0)[k - 1]
        np.testing.assert_array_equal(q[:, ALL_LEVELS.index(level)], expected, err_msg=str(level))
    assert (np.diff(q, axis=1) >= 0).all(), "a higher level never gives a narrower interval"


def test_too_few_windows_for_a_level_use_the_largest_score_and_say_so(caplog):
    scores = np.arange(1.0, 10.0)[:, None]  # 9 windows: 95 % needs ceil(10 * 0.95) = 10 > 9
    with caplog.at_level(logging.WARNING):
        q = conformal_quantiles(scores)
    assert q[0, ALL_LEVELS.index(95)] == 9.0 and q[0, ALL_LEVELS.index(80)] == 8.0
    assert "too few to guarantee levels" in caplog.text and "95" in caplog.text


@pytest.mark.parametrize("level", [50, 80, 95])
def test_exchangeable_windows_are_covered_at_the_nominal_rate(level):
    """Heteroscedastic errors (each window's noise proportional to its scale): normalised
    intervals from 200 calibration windows cover fresh windows within 2 points of nominal."""
    rng = np.random.default_rng(level)
    H, n_cal, n_test, trials = 4, 200, 200, 60
    covered = []
    for _ in range(trials):
        scale_cal, scale_test = rng.uniform(0.2, 5.0, n_cal), rng.uniform(0.2, 5.0, n_test)
        err_cal = rng.standard_t(5, (n_cal, H)) * scale_cal[:, None]
        err_test = rng.standard_t(5, (n_test, H)) * scale_test[:, None]
        q = conformal_quantiles(nonconformity(err_cal, np.zeros((n_cal, H)), scale_cal))
        lo, hi = bounds(np.zeros((n_test, H)), scale_test, q, level)
        covered.append(np.mean((err_test >= lo) & (err_test <= hi)))
    assert abs(np.mean(covered) - level / 100) < 0.02, np.mean(covered)


def test_the_interval_scales_with_the_window_and_steps_keep_their_own_quantile():
    scores = np.tile(np.array([[1.0, 2.0, 3.0]]), (99, 1))  # step h's score is h
    q = conformal_quantiles(scores)
    lo, hi = bounds(np.array([[10.0, 10.0, 10.0]] * 2), np.array([1.0, 0.5]), q, 90)
    np.testing.assert_allclose(hi - 10.0, [[1, 2, 3], [0.5, 1, 1.5]])
    np.testing.assert_allclose(10.0 - lo, hi - 10.0)


def test_a_flat_or_one_point_lookback_gets_the_floor():
    flat = np.full((1, 48, 1), 7.0)
    wavy = np.sin(np.arange(48) / 3.0)[None, :, None]
    floor = scale_floor(np.concatenate([wavy, wavy]), period=24)
    assert floor == pytest.approx(0.1 * lookback_scales(wavy, 24, 0.0)[0])
    assert lookback_scales(flat, 24, floor)[0] == floor
    assert lookback_scales(np.ones((1, 1, 1)), 24, 0.3)[0] == 0.3
