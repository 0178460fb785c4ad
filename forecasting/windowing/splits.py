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
    """Shortest length from which *every* longer series yields at least one window in train,
    validation and every fold.

    Rounding the validation and test shares up can make a series one point longer lose a training
    point (30 points may split where 31 do not), so the answer is the start of the run of feasible
    lengths that never breaks again, not the first feasible length.
    """
    # Lower bound on train_end(n) that never decreases with n; once it reaches lookback + horizon,
    # every longer series splits.
    need = spec.lookback + spec.horizon

    def surely_splits(n: int) -> bool:
        test = max(n * spec.test_fraction + 1, spec.n_folds * spec.horizon)
        val = max(n * spec.val_fraction + 1, spec.horizon)
        return n - test - val >= need

    n = need
    while not surely_splits(n):
        n += 1
    while n > need and _splits(n - 1, spec):
        n -= 1
    return n


def _splits(length: int, spec: WindowSpec) -> bool:
    try:
        split_series(length, spec, uid="")
    except ConfigError:
        return False
    return True


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
