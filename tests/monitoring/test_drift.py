"""The drift rule on hand-made scores: margin, coverage floor, last K, minimum sample."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from forecasting.config import MonitoringConfig
from forecasting.errors import ConfigError
from forecasting.monitoring.drift import ALARM, OK, TOO_FEW, judge
from forecasting.monitoring.expectation import Expectation
from forecasting.monitoring.past import PastForecast
from forecasting.monitoring.scoring import ScoredForecast

EXPECTED = Expectation("gru", mase=1.0, low=0.9, high=1.1, baseline="naive", baseline_mase=1.2)


def _scored(hour: int, mase: float, coverage: float = 0.8, complete: bool = True, base=1.2):
    forecast = PastForecast(
        Path(f"f{hour}.csv"),
        pd.DataFrame(),
        "m",
        "1",
        pd.Timestamp("2024-01-01") + pd.Timedelta(hours=hour),
        6,
        (80,),
        {},
    )
    summary = {"mase": mase, "coverage_80": coverage, "baseline_mase": base}
    return ScoredForecast(forecast, complete, 6, 6, summary, pd.DataFrame())


def test_the_mean_of_the_last_k_against_backtest_plus_margin():
    settings = MonitoringConfig(margin=0.5, last=3, min_forecasts=3)
    # The mean of the last three is (1.4 + 1.5 + 1.6) / 3 = 1.5: not above 1.0 x 1.5.
    quiet = judge(
        [_scored(h, m) for h, m in enumerate([9, 1.4, 1.5, 1.6])], EXPECTED, settings, "m"
    )
    assert quiet.status == OK and quiet.realised_mase == pytest.approx(1.5)
    assert quiet.limit == pytest.approx(1.5)
    # One more at 1.7 makes it (1.5 + 1.6 + 1.7) / 3 = 1.6 > 1.5; the order given does not matter.
    scores = [_scored(h, m) for h, m in enumerate([9, 1.4, 1.5, 1.6, 1.7])][::-1]
    loud = judge(scores, EXPECTED, settings, "m v1")
    assert loud.status == ALARM and loud.alarm
    assert loud.line.startswith("drift alarm: m v1: realised MASE 1.600 over the last 3")
    assert "held up: the model got worse" in loud.line


def test_a_baseline_that_got_worse_too_says_the_data_got_harder():
    settings = MonitoringConfig(margin=0.5, last=3, min_forecasts=3)
    verdict = judge([_scored(h, 3.0, base=3.0) for h in range(3)], EXPECTED, settings, "m")
    assert verdict.alarm and "worse as well: the data got harder" in verdict.line


def test_fewer_complete_forecasts_than_the_minimum_never_alarm():
    settings = MonitoringConfig(last=5, min_forecasts=3)
    scores = [_scored(0, 50.0), _scored(1, 50.0), _scored(2, 50.0, complete=False)]
    verdict = judge(scores, EXPECTED, settings, "m v1")
    assert verdict.status == TOO_FEW and not verdict.alarm
    assert "2 complete forecasts, the drift alarm needs at least 3" in verdict.line


def test_coverage_below_the_floor_alarms_with_a_good_error():
    settings = MonitoringConfig(coverage_floor=0.8, last=3, min_forecasts=3)
    # Floor 0.8 x 80% = 64%: 0.65 is fine, 0.6 is not.
    assert not judge([_scored(h, 1.0, 0.65) for h in range(3)], EXPECTED, settings, "m").alarm
    low = judge([_scored(h, 1.0, 0.6) for h in range(3)], EXPECTED, settings, "m")
    assert low.alarm and "the 80% interval covered 60% (floor 64%)" in low.line


def test_the_minimum_cannot_exceed_k():
    with pytest.raises(ConfigError, match="min_forecasts"):
        MonitoringConfig(last=2, min_forecasts=3)
