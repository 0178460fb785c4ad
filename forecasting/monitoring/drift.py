"""The drift rule: realised error and coverage of the last K forecasts against the backtest.

Over the last ``K`` (``monitoring.last``) *complete* forecasts of a version, by as-of time:

- the mean of their MASE exceeds the version's backtest MASE by more than ``margin`` of it
  (realised > backtest x (1 + margin)), or
- a p% interval covers less than ``coverage_floor`` x p% of their observed points;

either raises the alarm. Fewer than ``min_forecasts`` complete forecasts never do (the verdict
is then ``too_few``). The best baseline's realised MASE against its own backtest MASE is
reported beside it: a baseline that got worse as much says the data got harder.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from forecasting.config import MonitoringConfig
from forecasting.monitoring.expectation import Expectation
from forecasting.monitoring.scoring import BASELINE, ScoredForecast

ALARM, OK, TOO_FEW = "alarm", "ok", "too_few"


@dataclass(frozen=True)
class Verdict:
    status: str  # ALARM, OK or TOO_FEW
    line: str  # the one line the command prints
    forecasts: int  # complete forecasts the rule looked at
    realised_mase: float = float("nan")
    limit: float = float("nan")
    coverage: dict[int, float] = field(default_factory=dict)
    baseline_mase: float = float("nan")

    @property
    def alarm(self) -> bool:
        return self.status == ALARM


def _mean(values) -> float:
    values = np.asarray([v for v in values if v is not None], dtype=np.float64)
    return float(np.nanmean(values)) if np.isfinite(values).any() else float("nan")


def judge(
    scored: list[ScoredForecast], expected: Expectation, settings: MonitoringConfig, label: str
) -> Verdict:
    """The verdict on one version from its scored forecasts (any order; partial ones ignored)."""
    complete = sorted(
        (s for s in scored if s.complete and s.points > 0), key=lambda s: s.forecast.as_of
    )
    window = complete[-settings.last :]
    n = len(window)
    if n < settings.min_forecasts:
        return Verdict(
            TOO_FEW,
            f"not judged: {label}: {n} complete forecast{'s' * (n != 1)}, the drift alarm needs "
            f"at least {settings.min_forecasts} (monitoring.min_forecasts)",
            n,
        )
    realised = _mean(s.summary.get("mase") for s in window)
    limit = expected.mase * (1.0 + settings.margin)
    reasons, facts = [], []
    if math.isfinite(realised) and math.isfinite(limit):
        said = (
            f"realised MASE {realised:.3f} over the last {n} forecasts "
            f"{'>' if realised > limit else '<='} {limit:.3f} "
            f"(backtest {expected.mase:.3f} + {settings.margin:.0%})"
        )
        (reasons if realised > limit else facts).append(said)
    else:
        facts.append(
            f"MASE not judged (realised {realised:.3f}, backtest {expected.mase:.3f}: "
            "one is undefined)"
        )
    levels = sorted({p for s in window for p in s.forecast.levels})
    coverage = {p: _mean(s.summary.get(f"coverage_{p}") for s in window) for p in levels}
    for level, realised_cov in coverage.items():
        if not math.isfinite(realised_cov):
            continue
        floor = settings.coverage_floor * level / 100.0
        said = f"the {level}% interval covered {realised_cov:.0%} (floor {floor:.0%})"
        (reasons if realised_cov < floor else facts).append(said)
    base = _mean(s.summary.get(BASELINE + "mase") for s in window)
    context = f"{expected.baseline} baseline: realised MASE {base:.3f}"
    if math.isfinite(expected.baseline_mase):
        context += f" against its backtest {expected.baseline_mase:.3f}"
        if reasons and math.isfinite(base):
            harder = base > expected.baseline_mase * (1.0 + settings.margin)
            context += (
                ", worse as well: the data got harder"
                if harder
                else ", held up: the model got worse"
            )
    status = ALARM if reasons else OK
    head = f"drift alarm: {label}: " if reasons else f"no drift: {label}: "
    line = head + "; ".join(reasons + facts + [context])
    return Verdict(status, line, n, realised, limit, coverage, base)
