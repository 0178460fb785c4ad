"""The segment length an ``auto`` segment resolves to."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from forecasting.models.segment import choose_segment


@pytest.mark.parametrize(
    ("lookback", "period", "expected"),
    [
        pytest.param(48, 24, 24, id="two-seasons"),
        pytest.param(336, 24, 24, id="two-weeks-hourly"),
        pytest.param(112, 7, 7, id="16-weeks-daily"),
        pytest.param(36, 12, 12, id="three-years-monthly"),
        pytest.param(60, 24, 12, id="season-does-not-divide"),
        pytest.param(50, 24, 10, id="season-does-not-divide-2"),
        pytest.param(24, 24, 12, id="one-season-only"),
        pytest.param(30, 24, 10, id="less-than-two-seasons"),
        pytest.param(10, 48, 5, id="season-longer-than-lookback"),
        pytest.param(40, 1, 10, id="no-season"),
        pytest.param(48, 1, 12, id="no-season-2"),
        pytest.param(13, 1, 1, id="prime-lookback"),
        pytest.param(7, 1, 1, id="short-lookback"),
        pytest.param(1, 1, 1, id="one-step"),
        pytest.param(1, 24, 1, id="one-step-with-season"),
    ],
)
def test_choose_segment_by_hand(lookback, period, expected):
    assert choose_segment(lookback, period) == expected


@given(st.integers(1, 800), st.integers(1, 400))
def test_the_segment_divides_the_lookback_into_two_or_more(lookback, period):
    w = choose_segment(lookback, period)
    assert lookback % w == 0
    assert 1 <= w <= max(1, lookback // 2)
    if 1 < period <= lookback // 2 and lookback % period == 0:
        assert w == period
    else:
        cap = period // 2 if period > 1 else lookback // 4
        assert w <= max(1, cap)
