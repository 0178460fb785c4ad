"""Our windowing, scaling and baselines reproduce the published ETTh1 naive scores.

The standard ETTh1 protocol is an external check of the parts every forecast stands on: the
chronological split (rows 8640 / 11520 / 14400), scalers fitted on the training rows only,
test windows at every hour, and the naive forecasts. If any of them drifted by a window or
leaked a statistic, these numbers would move. Needs ../shared/data/ETTh1.csv (the project's
reference data) and skips cleanly without it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from forecasting.benchmark.etth1 import (
    REFERENCE,
    TEST_ROWS,
    TRAIN_ROWS,
    VAL_ROWS,
    etth1_windows,
    load_etth1,
    score_baselines,
)
from forecasting.errors import DataError

ETTH1 = Path(__file__).resolve().parents[3] / "shared" / "data" / "ETTh1.csv"
needs_etth1 = pytest.mark.skipif(not ETTH1.exists(), reason=f"reference data not present: {ETTH1}")


@needs_etth1
@pytest.mark.parametrize("setting", ["univariate", "multivariate"])
@pytest.mark.parametrize("horizon", [24, 96])
def test_baselines_reproduce_the_published_scores(setting, horizon):
    windowed = etth1_windows(ETTH1, horizon, lookback=96, multivariate=setting == "multivariate")
    n_series = 7 if setting == "multivariate" else 1
    assert len(windowed.splits["test"]) == n_series * (TEST_ROWS - horizon + 1), "a test window at every hour"
    for score in score_baselines(windowed):
        mse, mae = REFERENCE[(setting, horizon)][score.model]
        assert round(score.mse, 3) == mse, (score.model, score.mse)
        assert round(score.mae, 3) == mae, (score.model, score.mae)


@needs_etth1
def test_scalers_see_only_the_training_rows():
    windowed = etth1_windows(ETTH1, 24, lookback=96)
    ot = pd.read_csv(ETTH1, nrows=TRAIN_ROWS + VAL_ROWS + TEST_ROWS)["OT"].to_numpy()
    scaler = windowed.series[0].scaler
    np.testing.assert_allclose(scaler.mean_[0], ot[:TRAIN_ROWS].mean())
    np.testing.assert_allclose(scaler.scale_[0], ot[:TRAIN_ROWS].std())
    test = windowed.splits["test"]
    assert test.origin.min() == TRAIN_ROWS + VAL_ROWS - 1, "the first forecast starts at row 11520"


def test_a_file_that_is_not_etth1_is_one_clear_error(tmp_path):
    path = tmp_path / "other.csv"
    pd.DataFrame({"date": pd.date_range("2024-01-01", periods=10, freq="h"), "OT": 1.0}).to_csv(path, index=False)
    with pytest.raises(DataError, match="column 'HUFL' not found"):
        load_etth1(path)
