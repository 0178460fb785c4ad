"""Interval metrics as defined: coverage, mean width, and the M4 MSIS."""

from __future__ import annotations

import numpy as np
import pytest

from forecasting.evaluation.intervals import coverage, interval_score, mean_width, msis


def test_coverage_counts_the_bounds_as_inside():
    y = np.array([0.0, 1.0, 2.0, 3.0])
    assert coverage(y, np.full(4, 1.0), np.full(4, 2.0)) == 0.5


def test_msis_is_width_plus_2_over_a_times_the_miss_over_the_mase_scale():
    y = np.array([5.0, 0.0, 12.0])
    lo, hi = np.full(3, 2.0), np.full(3, 10.0)  # width 8; y=0 misses by 2, y=12 by 2
    a = 0.05
    expected = np.array([8.0, 8.0 + 2 / a * 2, 8.0 + 2 / a * 2])
    np.testing.assert_allclose(interval_score(y, lo, hi, 95), expected)
    assert msis(y, lo, hi, 95, scale=4.0) == pytest.approx(expected.mean() / 4.0)
    assert mean_width(lo, hi) == 8.0
    assert np.isnan(msis(y, lo, hi, 95, scale=float("nan")))


def test_a_lower_level_penalises_a_miss_less():
    y, lo, hi = np.array([0.0]), np.array([1.0]), np.array([2.0])
    assert interval_score(y, lo, hi, 80)[0] == pytest.approx(1.0 + 2 / 0.2)
    assert interval_score(y, lo, hi, 95)[0] == pytest.approx(1.0 + 2 / 0.05)
