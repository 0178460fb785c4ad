"""Chronological train / validation / test split of one series, and backtest cutoffs."""

from __future__ import annotations

import math
from dataclasses import dataclass

from forecasting.config import WindowSpec
from forecasting.errors import ConfigError

__all__ = ["SeriesSplit", "WindowSpec", "min_length", "split_series"]


@dataclass(frozen=True)
class SeriesSplit:
    """Index boundaries of one series: targets of train in [0, train_end), validation in
    [train_end, val_end), test in [val_end, length), test fold k in [cutoffs[k], cutoffs[k+1])."""

    length: int
    train_end: int
    val_end: int
    cutoffs: tuple[int, ...]

    def fold_bounds(self, k: int) -> tuple[int, int]:
        end = self.cutoffs[k + 1] if k + 1 < len(self.cutoffs) else self.length
        return self.cutoffs[k], end


def min_length(spec: WindowSpec) -> int:
    """Shortest series that yields at least one window in train, validation and every fold."""
    n = spec.lookback + spec.horizon  # first training window
    while True:
        try:
            split_series(n, spec, uid="")
            return n
        except ConfigError:
            n += 1


def split_series(length: int, spec: WindowSpec, uid: str) -> SeriesSplit:
    """Split a series of ``length`` points by time; raise if any part would have no window."""
    test = max(math.ceil(length * spec.test_fraction), spec.n_folds * spec.horizon)
    val = max(math.ceil(length * spec.val_fraction), spec.horizon)
    val_end = length - test
    train_end = val_end - val
    fold = test // spec.n_folds
    cutoffs = tuple(val_end + k * fold for k in range(spec.n_folds))
    if train_end < spec.lookback + spec.horizon:
        raise ConfigError(
            f"series {uid!r} has {length} points: too short for lookback {spec.lookback} + horizon "
            f"{spec.horizon} with {val} validation and {test} test points "
            f"(reduce lookback or horizon; at least {spec.lookback + spec.horizon + val + test} points needed)"
        )
    return SeriesSplit(length=length, train_end=train_end, val_end=val_end, cutoffs=cutoffs)
