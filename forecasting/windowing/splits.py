"""Chronological train / validation / test split of one series, and backtest cutoffs."""

from __future__ import annotations

import math
from dataclasses import dataclass

from forecasting.errors import ConfigError


@dataclass(frozen=True)
class WindowSpec:
    """How series become windows and how they are split by time.

    Args:
        lookback: L, observed steps fed to the model.
        horizon: H, steps forecast at once.
        stride: step between consecutive training / validation windows.
        val_fraction: share of each series (by time) whose targets validate (early stopping).
        test_fraction: share of each series held out for the rolling-origin backtest.
        n_folds: K backtest cutoffs spread evenly over the held-out tail.
        backtest_stride: step between backtest origins; default H (non-overlapping windows,
            so paired tests over windows are not inflated by overlap).
    """

    lookback: int
    horizon: int
    stride: int = 1
    val_fraction: float = 0.1
    test_fraction: float = 0.2
    n_folds: int = 3
    backtest_stride: int | None = None

    def __post_init__(self) -> None:
        for name in ("lookback", "horizon", "stride", "n_folds"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                raise ConfigError(f"{name} must be a positive integer, received: {value!r}")
        if self.backtest_stride is not None and self.backtest_stride <= 0:
            raise ConfigError(f"backtest_stride must be a positive integer, received: {self.backtest_stride!r}")
        for name in ("val_fraction", "test_fraction"):
            value = getattr(self, name)
            if not 0.0 < value < 1.0:
                raise ConfigError(f"{name} must be between 0 and 1, received: {value!r}")
        if self.val_fraction + self.test_fraction >= 0.9:
            raise ConfigError("val_fraction + test_fraction must leave at least 10% for training")

    @property
    def step_backtest(self) -> int:
        return self.backtest_stride or self.horizon


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
