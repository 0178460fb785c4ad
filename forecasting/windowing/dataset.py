"""From validated long-format series to model-ready windows, split by time without leakage.

Every series is scaled with its own scaler fitted on its training part only;
validation and test windows have all their targets after that part, and their
lookback may reach back into earlier parts (that is observed past, not future).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.preprocessing import StandardScaler

from forecasting.data import ID, TARGET, TIME, SeriesData
from forecasting.data.frequency import fixed_step
from forecasting.windowing.calendar import calendar_feature_names, calendar_features
from forecasting.windowing.scaling import fit_scaler, inverse_target, transform
from forecasting.windowing.splits import SeriesSplit, WindowSpec, split_series
from forecasting.windowing.windows import complete, gather, origins_between

log = logging.getLogger(__name__)

SPLITS = ("train", "val", "test")


@dataclass
class Windows:
    """One split's windows.

    ``past`` [N, L, F]: scaled target, scaled past covariates, calendar features of the
    observed steps. ``future`` [N, H, K]: calendar features of the target steps (known in
    advance). ``target`` [N, H]: scaled targets. ``series`` [N]: index into the series ids.
    ``origin`` [N]: index of the last observed step in its series. ``fold`` [N]: backtest
    fold (test split only, else -1). ``channel`` [N]: for a multichannel target, the index
    of each window's column in `WindowedData.channels` (else None).
    """

    past: np.ndarray
    future: np.ndarray
    target: np.ndarray
    series: np.ndarray
    origin: np.ndarray
    fold: np.ndarray
    channel: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.target)

    @property
    def inputs(self) -> dict[str, np.ndarray]:
        inputs = {"past": self.past, "future": self.future}
        if self.channel is not None:
            inputs["channel"] = self.channel
        return inputs

    def dataset(
        self,
        batch_size: int,
        shuffle: bool = False,
        seed: int | None = None,
        weights: np.ndarray | None = None,
    ):
        """A ``tf.data.Dataset`` of ``({"past", "future"}, target[, weight])``; shuffle training only."""
        import tensorflow as tf

        parts = (
            (self.inputs, self.target) if weights is None else (self.inputs, self.target, weights)
        )
        ds = tf.data.Dataset.from_tensor_slices(parts)
        if shuffle:
            ds = ds.shuffle(len(self), seed=seed, reshuffle_each_iteration=True)
        return ds.batch(batch_size).prefetch(tf.data.AUTOTUNE)


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
        for i, s in enumerate(self.series):
            rows = series == i
            out[rows] = inverse_target(s.scaler, y_scaled[rows])
        return out

    def actuals(self, windows: Windows) -> np.ndarray:
        """[N, H] targets of ``windows`` on the original scale (read from the data, not unscaled)."""
        out = np.empty(windows.target.shape, dtype=np.float64)
        for i, s in enumerate(self.series):
            rows = np.flatnonzero(windows.series == i)
            if len(rows):
                out[rows] = gather(s.values[:, 0], windows.origin[rows], 0, self.spec.horizon)
        return out

    def history(self, windows: Windows) -> np.ndarray:
        """[N, L] observed targets before each window on the original scale."""
        L = self.spec.lookback
        out = np.empty((len(windows), L), dtype=np.float64)
        for i, s in enumerate(self.series):
            rows = np.flatnonzero(windows.series == i)
            if len(rows):
                out[rows] = gather(s.values[:, 0], windows.origin[rows], L, 0)
        return out

    def target_times(self, windows: Windows) -> np.ndarray:
        """[N, H] timestamps of each window's targets."""
        H = self.spec.horizon
        out = np.empty((len(windows), H), dtype=object)
        for i, s in enumerate(self.series):
            rows = np.flatnonzero(windows.series == i)
            if len(rows):
                idx = windows.origin[rows, None] + np.arange(1, H + 1)
                out[rows] = np.asarray(s.times, dtype=object)[idx]
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


def _cut(
    arr: SeriesArrays, origins: np.ndarray, spec: WindowSpec, index: int, fold: int
) -> Windows:
    L, H = spec.lookback, spec.horizon
    origins = origins[complete(arr.values, origins, L, H)]  # the "drop" policy keeps gaps as NaN
    return Windows(
        past=gather(arr.features, origins, L, 0),  # [N, L, F]
        future=gather(arr.calendar, origins, 0, H),  # [N, H, K]
        target=gather(arr.features[:, 0], origins, 0, H),  # [N, H]
        series=np.full(len(origins), index, dtype=np.int32),
        origin=origins,
        fold=np.full(len(origins), fold, dtype=np.int32),
    )


def _with_channels(windows: Windows, channel_of_series: np.ndarray | None) -> Windows:
    """``windows`` with each window's channel index looked up from its series (if any)."""
    if channel_of_series is not None:
        windows.channel = channel_of_series[windows.series].astype(np.int32)
    return windows


def _concat(parts: list[Windows], spec: WindowSpec, n_features: int, n_cal: int) -> Windows:
    if not parts:
        L, H = spec.lookback, spec.horizon
        return Windows(
            np.empty((0, L, n_features), np.float32),
            np.empty((0, H, n_cal), np.float32),
            np.empty((0, H), np.float32),
            np.empty(0, np.int32),
            np.empty(0, np.int64),
            np.empty(0, np.int32),
        )
    return Windows(
        *(
            np.concatenate([getattr(p, f) for p in parts])
            for f in ("past", "future", "target", "series", "origin", "fold")
        )
    )


def make_windows(data: SeriesData, spec: WindowSpec) -> WindowedData:
    """Split every series by time, fit its scaler on the training part, and cut the windows."""
    if spec.lookback == "auto":
        from forecasting.errors import ConfigError

        raise ConfigError(
            "windowing.lookback is 'auto': choose it from the data first (forecast compare does)"
        )
    L, H = spec.lookback, spec.horizon
    arrays, cuts = [], {name: [] for name in SPLITS}
    for index, (uid, part) in enumerate(data.frame.groupby(ID, sort=False)):
        split = split_series(len(part), spec, uid)
        arr = series_arrays(uid, part, data.covariates, data.freq, split)
        arrays.append(arr)
        T = split.length
        cuts["train"].append(
            _cut(
                arr, origins_between(T, L, H, 0, split.train_end, spec.step_train), spec, index, -1
            )
        )
        cuts["val"].append(
            _cut(
                arr,
                origins_between(T, L, H, split.train_end, split.val_end, spec.step_train),
                spec,
                index,
                -1,
            )
        )
        for k in range(spec.n_folds):
            lo, hi = split.fold_bounds(k)
            cuts["test"].append(
                _cut(arr, origins_between(T, L, H, lo, hi, spec.step_backtest), spec, index, k)
            )
    names = calendar_feature_names(fixed_step(data.freq))
    out = WindowedData(spec, data.freq, list(data.covariates), names, arrays)
    channel_of = None
    if data.channels:
        out.channels = list(data.columns.targets)
        index = {c: i for i, c in enumerate(out.channels)}
        channel_of = np.array([index[data.channels[a.uid]] for a in arrays], dtype=np.int32)
    n_feat = out.n_features
    for name in SPLITS:
        out.splits[name] = _with_channels(_concat(cuts[name], spec, n_feat, len(names)), channel_of)
        if len(out.splits[name]) == 0:
            from forecasting.errors import ConfigError

            raise ConfigError(
                f"no complete {name} windows: the gaps left by the 'drop' policy cover them all"
            )
    log.info(
        "windows (L=%d, H=%d): train %d, validation %d, test %d over %d series",
        L,
        H,
        *(len(out.splits[n]) for n in SPLITS),
        len(arrays),
    )
    return out
