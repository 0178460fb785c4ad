"""From validated long-format series to model-ready windows, split by time without leakage.

Every series is scaled with its own scaler fitted on its training part only;
validation and test windows have all their targets after that part, and their
lookback may reach back into earlier parts (that is observed past, not future).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.preprocessing import StandardScaler

from forecasting.data import ID, TARGET, TIME, SeriesData
from forecasting.data.frequency import fixed_step
from forecasting.windowing.calendar import calendar_feature_names, calendar_features
from forecasting.windowing.panel import Panel
from forecasting.windowing.pipeline import input_pipeline
from forecasting.windowing.scaling import fit_scaler, inverse_target, transform
from forecasting.windowing.splits import SeriesSplit, WindowSpec, split_series
from forecasting.windowing.windows import complete, gather, origins_between

log = logging.getLogger(__name__)

SPLITS = ("train", "val", "test")


@dataclass
class Windows:
    """One split's windows, as an index into the panel they are cut from.

    A window is its series and origin; its arrays are gathered from ``panel`` when asked for,
    so a split holds O(windows) integers, never O(windows x lookback) values. ``past``
    [N, L, F]: scaled target, scaled past covariates, calendar features of the observed
    steps. ``future`` [N, H, K]: calendar features of the target steps (known in advance).
    ``target`` [N, H]: scaled targets. Each of these gathers every window of the split on
    access (keep the result if you read it twice); training gathers one batch at a time
    (``dataset``). ``series`` [N]: index into the series ids. ``origin`` [N]: index of the
    last observed step in its series. ``fold`` [N]: backtest fold (test split only, else -1).
    ``channel`` [N]: for a multichannel target, the index of each window's column in
    `WindowedData.channels` (else None).
    """

    panel: Panel
    lookback: int
    horizon: int
    series: np.ndarray
    origin: np.ndarray
    fold: np.ndarray
    channel: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.origin)

    @property
    def rows(self) -> np.ndarray:
        """[N] each window's origin row in the panel's flat features."""
        return self.panel.rows(self.series, self.origin)

    @property
    def past(self) -> np.ndarray:
        return self.panel.past(self.rows, self.lookback)

    @property
    def past_target(self) -> np.ndarray:
        """[N, L, 1] the scaled target of each lookback (``past[:, :, :1]`` without the rest)."""
        return self.panel.past_target(self.rows, self.lookback)

    @property
    def future(self) -> np.ndarray:
        return self.panel.future(self.rows, self.horizon)

    @property
    def target(self) -> np.ndarray:
        return self.panel.target(self.rows, self.horizon)

    @property
    def inputs(self) -> dict[str, np.ndarray]:
        rows = self.rows
        inputs = {
            "past": self.panel.past(rows, self.lookback),
            "future": self.panel.future(rows, self.horizon),
        }
        if self.channel is not None:
            inputs["channel"] = self.channel
        return inputs

    def take(self, index) -> Windows:
        """The windows at ``index`` (a slice, integer or boolean array), on the same panel."""
        channel = None if self.channel is None else self.channel[index]
        return Windows(
            self.panel,
            self.lookback,
            self.horizon,
            self.series[index],
            self.origin[index],
            self.fold[index],
            channel,
        )

    def chunks(self, size: int = 8192):
        """The windows in consecutive parts of at most ``size`` (to gather a large split piecewise)."""
        for start in range(0, len(self), size):
            yield self.take(slice(start, start + size))

    @property
    def nbytes(self) -> int:
        """Bytes this split holds of its own (its index; the panel is shared by all splits)."""
        arrays = [self.series, self.origin, self.fold]
        if self.channel is not None:
            arrays.append(self.channel)
        return int(sum(a.nbytes for a in arrays))

    def dataset(
        self,
        batch_size: int,
        shuffle: bool = False,
        seed: int | None = None,
        weights: np.ndarray | None = None,
        per_series: int | None = None,
    ):
        """A ``tf.data.Dataset`` of ``({"past", "future"}, target[, weight])``; shuffle training
        only. Each batch's windows are gathered inside the pipeline
        (:mod:`forecasting.windowing.pipeline`); with ``per_series``, every epoch samples at most
        that many windows of each series (seeded by ``seed``)."""
        return input_pipeline(
            self.panel,
            self.rows,
            self.lookback,
            self.horizon,
            batch_size,
            channel=self.channel,
            weights=weights,
            shuffle=shuffle,
            seed=seed,
            series=self.series,
            per_series=per_series,
        )


def rows_by_series(series: np.ndarray):
    """``(i, rows)`` for every series ``i`` that has windows, ``rows`` its windows' indices in
    increasing order: one sort, not one scan of every window per series."""
    series = np.asarray(series)
    order = np.argsort(series, kind="stable")
    for rows in np.split(order, np.flatnonzero(np.diff(series[order])) + 1):
        if len(rows):
            yield int(series[rows[0]]), rows


@dataclass
class SeriesArrays:
    """Everything about one series that windows are cut from."""

    uid: str
    times: pd.DatetimeIndex
    values: np.ndarray  # [T, 1 + C] original scale (target first), NaN where gaps were kept
    features: np.ndarray  # [T, 1 + C + K] scaled values and calendar features
    calendar: np.ndarray  # [T, K]
    split: SeriesSplit
    scaler: StandardScaler


@dataclass
class WindowedData:
    spec: WindowSpec
    freq: str
    covariates: list[str]
    calendar_names: list[str]
    series: list[SeriesArrays]
    splits: dict[str, Windows] = field(default_factory=dict)
    channels: list[str] = field(default_factory=list)  # a multichannel target's columns
    panel: Panel | None = None  # every series' features, which the splits' windows index

    @property
    def ids(self) -> list[str]:
        return [s.uid for s in self.series]

    @property
    def n_features(self) -> int:
        return 1 + len(self.covariates) + len(self.calendar_names)

    @property
    def n_calendar(self) -> int:
        return len(self.calendar_names)

    def inverse(self, y_scaled: np.ndarray, series: np.ndarray) -> np.ndarray:
        """[N, H] scaled forecasts -> original scale, each row with its own series' scaler."""
        out = np.empty_like(y_scaled, dtype=np.float64)
        for i, rows in rows_by_series(series):
            out[rows] = inverse_target(self.series[i].scaler, y_scaled[rows])
        return out

    def actuals(self, windows: Windows) -> np.ndarray:
        """[N, H] targets of ``windows`` on the original scale (read from the data, not unscaled)."""
        out = np.empty((len(windows), self.spec.horizon), dtype=np.float64)
        for i, rows in rows_by_series(windows.series):
            values = self.series[i].values[:, 0]
            out[rows] = gather(values, windows.origin[rows], 0, self.spec.horizon)
        return out

    def history(self, windows: Windows) -> np.ndarray:
        """[N, L] observed targets before each window on the original scale."""
        L = self.spec.lookback
        out = np.empty((len(windows), L), dtype=np.float64)
        for i, rows in rows_by_series(windows.series):
            out[rows] = gather(self.series[i].values[:, 0], windows.origin[rows], L, 0)
        return out

    def target_times(self, windows: Windows) -> np.ndarray:
        """[N, H] timestamps of each window's targets."""
        H = self.spec.horizon
        out = np.empty((len(windows), H), dtype=object)
        for i, rows in rows_by_series(windows.series):
            idx = windows.origin[rows, None] + np.arange(1, H + 1)
            out[rows] = np.asarray(self.series[i].times, dtype=object)[idx]
        return out


def series_arrays(
    uid: str,
    part: pd.DataFrame,
    covariates: list[str],
    freq: str,
    split: SeriesSplit,
    scaler: StandardScaler | None = None,
) -> SeriesArrays:
    """Scale one series (fitting its scaler on the training part unless one is given)."""
    values = part[[TARGET, *covariates]].to_numpy(dtype=np.float64)
    if scaler is None:
        scaler = fit_scaler(values[: split.train_end])
    times = pd.DatetimeIndex(part[TIME])
    cal = calendar_features(times, fixed_step(freq))
    features = np.concatenate([transform(scaler, values), cal], axis=1)
    return SeriesArrays(uid, times, values, features, cal, split, scaler)


def _origins(arr: SeriesArrays, origins: np.ndarray, spec: WindowSpec) -> np.ndarray:
    """The origins whose windows are complete (the "drop" policy keeps gaps as NaN)."""
    return origins[complete(arr.values, origins, spec.lookback, spec.horizon)]


def _split_windows(
    panel: Panel, spec: WindowSpec, parts: list[tuple[int, np.ndarray, int]]
) -> Windows:
    """One split's windows from ``(series, origins, fold)`` parts, in order."""
    origins = [o for _, o, _ in parts]
    counts = [len(o) for o in origins]
    return Windows(
        panel,
        spec.lookback,
        spec.horizon,
        series=np.repeat(np.array([s for s, _, _ in parts], np.int32), counts).astype(np.int32),
        origin=np.concatenate(origins) if origins else np.empty(0, np.int64),
        fold=np.repeat(np.array([f for _, _, f in parts], np.int32), counts).astype(np.int32),
    )


def _with_channels(windows: Windows, channel_of_series: np.ndarray | None) -> Windows:
    """``windows`` with each window's channel index looked up from its series (if any)."""
    if channel_of_series is not None:
        windows.channel = channel_of_series[windows.series].astype(np.int32)
    return windows


PROGRESS_SECONDS = 10.0  # a long windowing says how far it is at most this often


def make_windows(data: SeriesData, spec: WindowSpec) -> WindowedData:
    """Split every series by time, fit its scaler on the training part, and index the windows.

    The series' scaled features go into one flat panel (`Panel`); each split keeps only the
    (series, origin) of its windows, whose arrays are gathered when asked for.
    """
    if spec.lookback == "auto":
        from forecasting.errors import ConfigError

        raise ConfigError(
            "windowing.lookback is 'auto': choose it from the data first (forecast compare does)"
        )
    L, H = spec.lookback, spec.horizon
    arrays, parts = [], {name: [] for name in SPLITS}
    groups = data.frame.groupby(ID, sort=False)
    n_series, n_windows = groups.ngroups, 0
    started = last_said = time.monotonic()
    for index, (uid, part) in enumerate(groups):
        split = split_series(len(part), spec, uid)
        arr = series_arrays(uid, part, data.covariates, data.freq, split)
        arrays.append(arr)
        T = split.length
        train = _origins(arr, origins_between(T, L, H, 0, split.train_end, spec.step_train), spec)
        val = _origins(
            arr, origins_between(T, L, H, split.train_end, split.val_end, spec.step_train), spec
        )
        parts["train"].append((index, train, -1))
        parts["val"].append((index, val, -1))
        n_windows += len(train) + len(val)
        for k in range(spec.n_folds):
            lo, hi = split.fold_bounds(k)
            test = _origins(arr, origins_between(T, L, H, lo, hi, spec.step_backtest), spec)
            parts["test"].append((index, test, k))
            n_windows += len(test)
        if time.monotonic() - last_said >= PROGRESS_SECONDS:
            last_said = time.monotonic()
            log.info(
                "windowing: %d of %d series, %d windows so far (%.0fs)",
                index + 1,
                n_series,
                n_windows,
                last_said - started,
            )
    panel = Panel.of([a.features for a in arrays], 1 + len(data.covariates))
    for index, arr in enumerate(arrays):  # each series now reads its rows of the one panel
        arr.features = panel.series_view(index, len(arr.features))
        arr.calendar = arr.features[:, panel.n_values :]
    names = calendar_feature_names(fixed_step(data.freq))
    out = WindowedData(spec, data.freq, list(data.covariates), names, arrays, panel=panel)
    channel_of = None
    if data.channels:
        out.channels = list(data.columns.targets)
        index = {c: i for i, c in enumerate(out.channels)}
        channel_of = np.array([index[data.channels[a.uid]] for a in arrays], dtype=np.int32)
    for name in SPLITS:
        out.splits[name] = _with_channels(_split_windows(panel, spec, parts[name]), channel_of)
        if len(out.splits[name]) == 0:
            from forecasting.errors import ConfigError

            raise ConfigError(
                f"no complete {name} windows: the gaps left by the 'drop' policy cover them all"
            )
    log.info(
        "windows (L=%d, H=%d): train %d, validation %d, test %d over %d series "
        "(panel %.1f MB, index %.1f MB)",
        L,
        H,
        *(len(out.splits[n]) for n in SPLITS),
        len(arrays),
        panel.nbytes / 1e6,
        sum(out.splits[n].nbytes for n in SPLITS) / 1e6,
    )
    return out
