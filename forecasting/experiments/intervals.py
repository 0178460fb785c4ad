"""The prediction intervals a packaged forecaster carries, from its comparison's calibration."""

from __future__ import annotations

from collections.abc import Sequence

from forecasting.evaluation.backtest import Backtest, baseline_backtest
from forecasting.packaging.state import IntervalState
from forecasting.windowing import WindowedData


def interval_state(
    levels: Sequence[int], network: Backtest, data: WindowedData, period: int, fallback: str | None
) -> IntervalState:
    """The network's conformal quantiles (calibrated by its backtest on the validation windows)
    and the ``fallback`` baseline's, calibrated the same way on the same windows."""
    base = baseline_backtest(fallback, data, period, levels=()).intervals if fallback else None
    return IntervalState.from_arrays(
        levels,
        network.intervals.floor,
        network.intervals.quantiles,
        base.quantiles if base is not None else None,
    )
