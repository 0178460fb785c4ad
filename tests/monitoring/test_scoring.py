"""A past forecast scored on the actuals since, checked by hand on a case small enough to write out."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from forecasting.data.schema import ID, TARGET, TIME
from forecasting.monitoring.past import PastForecast
from forecasting.monitoring.scoring import score_forecast

AS_OF = pd.Timestamp("2024-01-01 03:00")


def _actuals(values: dict[str, list[float]]) -> pd.DataFrame:
    rows = []
    for uid, ys in values.items():
        for i, y in enumerate(ys):
            rows.append(
                {ID: uid, TIME: pd.Timestamp("2024-01-01") + pd.Timedelta(hours=i), TARGET: y}
            )
    return pd.DataFrame(rows)


def _forecast(y_hat: list[float], lo: list[float], hi: list[float]) -> PastForecast:
    times = pd.date_range(AS_OF + pd.Timedelta(hours=1), periods=len(y_hat), freq="h")
    frame = pd.DataFrame(
        {"store": "a", "when": times, "y_hat": y_hat, "y_hat_lo_80": lo, "y_hat_hi_80": hi}
    )
    return PastForecast(
        path=Path("f.csv"),
        frame=frame,
        model_name="m",
        model_version="1",
        as_of=AS_OF,
        horizon=len(y_hat),
        levels=(80,),
        lineage={},
    )


def test_a_complete_forecast_by_hand():
    # History 0..3h: 10, 12, 11, 13 -> with m = 2 the seasonal differences are |11-10|, |13-12|:
    # the MASE scale is 1. Actuals 4h, 5h: 14, 12. Forecast 13, 14.
    actuals = _actuals({"a": [10, 12, 11, 13, 14, 12]})
    scored = score_forecast(_forecast([13, 14], [12, 13], [14, 13.5]), actuals, 2, "seasonal_naive")
    assert scored.complete and scored.points == scored.expected == 2
    s = scored.summary
    assert s["mae"] == pytest.approx((1 + 2) / 2)
    assert s["mase"] == pytest.approx(1.5)  # MAE / scale 1
    assert s["smape"] == pytest.approx((200 * 1 / 27 + 200 * 2 / 26) / 2)
    assert s["coverage_80"] == pytest.approx(0.5)  # 14 in [12, 14]; 12 not in [13, 13.5]
    # Seasonal naive (m = 2) from the history: 11, 13 -> errors 3 and 1.
    assert s["baseline_mae"] == pytest.approx(2.0)
    assert s["baseline_mase"] == pytest.approx(2.0)
    # The naive baseline repeats 13 -> errors 1 and 1.
    naive = score_forecast(_forecast([13, 14], [12, 13], [14, 13.5]), actuals, 2, "naive")
    assert naive.summary["baseline_mase"] == pytest.approx(1.0)


def test_a_partially_observed_horizon_is_scored_on_what_is_observed_and_says_so():
    actuals = _actuals({"a": [10, 12, 11, 13, 14]})  # only 4h has arrived
    scored = score_forecast(_forecast([13, 14, 15], [0] * 3, [99] * 3), actuals, 2, "naive")
    assert not scored.complete
    assert (scored.points, scored.expected) == (1, 3)
    assert scored.status == "partial (1 of 3)"
    assert scored.summary["mae"] == pytest.approx(1.0)


def test_a_history_shorter_than_a_season_leaves_mase_undefined_and_says_so():
    actuals = _actuals({"a": [10, 12, 11, 13, 14, 12]})
    scored = score_forecast(_forecast([13, 14], [0, 0], [99, 99]), actuals, 24, "seasonal_naive")
    assert math.isnan(scored.summary["mase"])
    assert scored.summary["mae"] == pytest.approx(1.5)
    assert any("not more than one season (24): MASE undefined" in n for n in scored.notes)


def test_series_missing_from_the_actuals_are_named():
    scored = score_forecast(_forecast([1, 2], [0, 0], [9, 9]), _actuals({"b": [1] * 6}), 2, "naive")
    assert scored.points == 0 and not scored.per_series.shape[0]
    assert "series a: not in the actuals" in scored.notes
