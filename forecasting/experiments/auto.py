"""Data-driven defaults: every setting left at ``auto`` is chosen from the data, and said.

A user who passes only the data and a horizon gets the configuration that measured well on
panels of real series (see the README's accuracy section):

- **lookback**: several seasons (two weeks of sub-daily data, 16 weeks of daily data, two
  years of weekly data, three of monthly data) and at least the horizon, at most 720 steps,
  bounded so that the series at the 10 % quantile of lengths still yields training,
  validation and backtest windows (a few short series do not shrink it; they are left out
  of training instead, see `experiments.panel`); a multiple of the season when it holds two;
- **segment**: the season when it divides the lookback (`models.segment.choose_segment`);
- **units**: 64, 128 or 256 as the panel has fewer than 5,000, fewer than 50,000 or more
  training windows;
- **stride**: 1, or the step that keeps one epoch under a fixed amount of recurrent work;
  1 when ``training.windows_per_series`` already bounds the epoch (at most that many windows
  of each series, drawn anew every epoch; batch size and epochs are then chosen from it);
- **batch size** and **epochs**: 256 windows and at most 20 epochs (early stopping usually
  ends sooner) on large panels; smaller batches and up to 50 epochs on small ones, within a
  fixed training budget per family.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from forecasting.config import AUTO, PipelineConfig, WindowSpec
from forecasting.errors import ConfigError
from forecasting.models.segment import choose_segment
from forecasting.windowing import split_series

log = logging.getLogger(__name__)

MAX_LOOKBACK = 720
LENGTH_QUANTILE = 0.1
# Recurrent work of one epoch: windows x (input + output segments) x units^2. 2e10 is about
# 20 seconds on two busy CPU cores (measured on a panel of hourly series: 7.5e9 took 9 s);
# epochs above that are thinned by a larger stride, so that a comparison of a few hundred
# hourly series of a thousand points stays within a few minutes per family.
EPOCH_WORK = 2e10
TOTAL_WORK = 2e11  # the whole training budget of one family, in the same units (about 4 minutes)


@dataclass(frozen=True)
class Choice:
    key: str
    value: int
    why: str

    def __str__(self) -> str:
        return f"{self.key} = {self.value} ({self.why})"


def preferred_lookback(step: pd.Timedelta | None, period: int, horizon: int) -> tuple[int, str]:
    """The lookback to aim for before the data's lengths are looked at."""
    day = pd.Timedelta(days=1)
    if step is not None and step < day:
        steps, why = int(round(pd.Timedelta(days=14) / step)), "two weeks"
    elif step is not None and step == day:
        steps, why = 16 * 7, "16 weeks"
    elif period == 52:
        steps, why = 104, "two years"
    elif period > 1:
        steps, why = 3 * period, "three seasons"
    else:
        steps, why = 4 * horizon, "four horizons"
    if steps < horizon:
        steps, why = horizon, "the horizon"
    if steps > MAX_LOOKBACK:
        steps, why = MAX_LOOKBACK, f"capped at {MAX_LOOKBACK} steps"
    return steps, why


def longest_lookback(length: int, spec: WindowSpec) -> int:
    """The longest lookback a series of ``length`` points has room for (0: none)."""
    lo, hi = 0, length
    while lo < hi:  # split_series succeeds for every lookback up to the answer
        mid = (lo + hi + 1) // 2
        try:
            split_series(length, spec.model_copy(update={"lookback": mid}), uid="")
            lo = mid
        except ConfigError:
            hi = mid - 1
    return lo


def _round_to_season(lookback: int, period: int) -> int:
    return lookback - lookback % period if period > 1 and lookback >= 2 * period else lookback


def train_windows(lengths: np.ndarray, spec: WindowSpec) -> int:
    """Training windows of a panel at stride 1 (series too short for ``spec`` count none)."""
    return int(train_counts(lengths, spec).sum())


def train_counts(lengths: np.ndarray, spec: WindowSpec) -> np.ndarray:
    """[S] training windows of each series at stride 1 (0 for a series too short for ``spec``)."""
    counts = np.zeros(len(lengths), dtype=np.int64)
    for i, n in enumerate(lengths):
        try:
            split = split_series(int(n), spec, uid="")
        except ConfigError:
            continue
        counts[i] = split.train_end - spec.lookback - spec.horizon + 1
    return counts


def resolve(
    cfg: PipelineConfig, lengths: pd.Series, step: pd.Timedelta | None, period: int
) -> tuple[PipelineConfig, list[Choice]]:
    """Replace every ``auto`` setting of ``cfg`` by a value chosen from the series' lengths.

    Returns the resolved config and the choices made (for the user to read; the caller logs
    them once the data are known to be usable, so that refused data stay one line).
    """
    w, m, t = cfg.windowing, cfg.model, cfg.training
    H = w.horizon
    lengths = np.asarray(lengths, dtype=int)
    choices: list[Choice] = []
    if w.lookback == AUTO:
        target, why = preferred_lookback(step, period, H)
        probe = w.model_copy(update={"lookback": 1, "stride": 1})
        typical = int(np.quantile(lengths, LENGTH_QUANTILE, method="lower"))
        room = longest_lookback(typical, probe)
        if room == 0:
            room = longest_lookback(int(lengths.max()), probe)
            if room == 0:
                raise ConfigError(
                    f"the longest series has {lengths.max()} points: too short for horizon {H} with "
                    "validation and backtest windows (shorten the horizon)"
                )
        lookback = min(target, room)
        if lookback < target:
            why = f"{why} wanted ({target}), shortened to fit the 10% shortest series ({typical} points)"
        lookback = _round_to_season(lookback, period)
        choices.append(Choice("windowing.lookback", lookback, why))
        w = w.model_copy(update={"lookback": lookback})
    L = w.lookback
    if m.segment == AUTO:
        segment = choose_segment(L, period)
        why = (
            "the season"
            if segment == period
            else f"divides the lookback into {L // segment} segments"
        )
        if (
            m.arch == "segment"
        ):  # a pointwise network does not read segments: resolved, not reported
            choices.append(Choice("model.segment", segment, why))
        m = m.model_copy(update={"segment": segment})
    counts = train_counts(lengths, w.model_copy(update={"stride": 1}))
    n_windows = int(counts.sum())
    sampled = t.windows_per_series
    if m.units == AUTO:
        units = 64 if n_windows < 5_000 else 128 if n_windows < 50_000 else 256
        choices.append(Choice("model.units", units, f"{n_windows:,} training windows"))
        m = m.model_copy(update={"units": units})
    steps = (L // m.segment + math.ceil(H / m.segment)) if m.arch == "segment" else L
    work = steps * m.units**2  # recurrent work of one window
    if w.stride == AUTO:
        if sampled is not None:  # the epoch is bounded by sampling: every window a candidate
            stride, why = 1, f"every window; at most {sampled} of each series per epoch"
        else:
            stride = max(1, math.ceil(n_windows * work / EPOCH_WORK))
            why = (
                "every window"
                if stride == 1
                else f"{n_windows:,} windows thinned to about {n_windows // stride:,} per epoch"
            )
        choices.append(Choice("windowing.stride", stride, why))
        w = w.model_copy(update={"stride": stride})
    if sampled is not None:
        per_epoch = max(1, int(np.minimum(counts // w.stride, sampled).sum()))
    else:
        per_epoch = max(1, n_windows // w.stride)
    if t.batch_size == AUTO:
        # Large epochs run in batches of 256 (what a CPU computes most efficiently); small ones
        # in smaller batches, so that an epoch still takes about a hundred steps.
        batch = (
            256
            if per_epoch >= 10_000
            else int(min(256, max(32, 2 ** round(math.log2(max(per_epoch / 100, 1))))))
        )
        choices.append(
            Choice("training.batch_size", batch, f"about {per_epoch:,} windows per epoch")
        )
        t = t.model_copy(update={"batch_size": batch})
    if t.max_epochs == AUTO:
        most = 20 if per_epoch > 20_000 else 50  # large epochs converge in fewer passes
        epochs = int(min(most, max(5, TOTAL_WORK // (per_epoch * work))))
        choices.append(
            Choice("training.max_epochs", epochs, f"patience {t.patience}, bounded training time")
        )
        t = t.model_copy(update={"max_epochs": epochs})
    resolved = cfg.model_copy(update={"windowing": w, "model": m, "training": t})
    return resolved, choices
