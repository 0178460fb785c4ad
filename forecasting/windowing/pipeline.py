"""The ``tf.data`` input of Keras: window indices, batched, each batch's windows gathered in TF.

The pipeline holds the panel's flat features once (one tensor) and the windows' flat rows; it
never holds the windows themselves. Each batch of window indices becomes ``past`` [B, L, F],
``future`` [B, H, K] and ``target`` [B, H] by ``tf.gather`` on the flat features, so no Python
runs per batch and memory is O(points + windows), not O(windows x lookback).

Training shuffles its indices (seeded, reshuffled every epoch). With ``per_series`` it also
*samples* a new set of windows every epoch: at most ``per_series`` of each series' windows,
one drawn at random from each of ``per_series`` equal strata of its origins (so the sample
covers the series' whole training span), from a seed that changes every epoch and repeats run
to run.
"""

from __future__ import annotations

import numpy as np

from forecasting.windowing.panel import Panel, is_aligned


def _panel_tensor(panel: Panel):
    """The panel's features as one tensor, made once per panel (train and validation share it).

    An aligned panel (as `Panel.of` makes them) is shared with TensorFlow through DLPack, not
    copied: the features exist once, whoever reads them."""
    import tensorflow as tf

    cached = getattr(panel, "_tensor", None)
    if cached is None:
        features = panel.features
        if is_aligned(features) and features.size:
            cached = tf.experimental.dlpack.from_dlpack(features.__dlpack__())
        else:
            cached = tf.convert_to_tensor(features)
        panel._tensor = cached
    return cached


def _epoch_sample(first: np.ndarray, count: np.ndarray, per_series: int, seed):
    """Window indices of one epoch: for each series, all its windows if it has at most
    ``per_series``, else one from each of ``per_series`` equal strata of them."""
    import tensorflow as tf

    first_t = tf.constant(first, tf.int64)[:, None]
    count_t = tf.constant(count, tf.int64)[:, None]
    j = tf.range(per_series + 1, dtype=tf.int64)[None, :]
    bounds = j * count_t // per_series  # stratum j of a series: [bounds[j], bounds[j + 1])
    low, width = bounds[:, :-1], bounds[:, 1:] - bounds[:, :-1]
    j = j[:, :-1]
    u = tf.random.stateless_uniform(
        (len(first), per_series), seed=tf.stack([seed, 0]), dtype=tf.float64
    )
    strata = low + tf.cast(tf.floor(u * tf.cast(width, tf.float64)), tf.int64)
    pos = tf.where(count_t > per_series, strata, j)
    keep = tf.broadcast_to(j < count_t, tf.shape(pos))
    picked = tf.boolean_mask(first_t + pos, keep)
    return tf.random.experimental.stateless_shuffle(picked, seed=tf.stack([seed, 1]))


def input_pipeline(
    panel: Panel,
    rows: np.ndarray,
    lookback: int,
    horizon: int,
    batch_size: int,
    channel: np.ndarray | None = None,
    weights: np.ndarray | None = None,
    shuffle: bool = False,
    seed: int | None = None,
    series: np.ndarray | None = None,
    per_series: int | None = None,
):
    """A ``tf.data.Dataset`` of ``({"past", "future"[, "channel"]}, target[, weight])`` batches.

    Args:
        rows: [N] each window's origin row in ``panel`` (windows of a series contiguous, in
            order, when ``per_series`` is given).
        shuffle: shuffle the windows (seeded by ``seed``), anew every epoch.
        series, per_series: sample at most ``per_series`` windows of each series every epoch,
            always in a shuffled order (training only; ``series`` [N] is each window's series).
    """
    import tensorflow as tf

    flat = _panel_tensor(panel)
    rows_t = tf.constant(np.asarray(rows, dtype=np.int64))
    channel_t = None if channel is None else tf.constant(np.asarray(channel, dtype=np.int32))
    weights_t = None if weights is None else tf.constant(np.asarray(weights, dtype=np.float32))
    back = tf.range(1 - lookback, 1, dtype=tf.int64)[None, :]
    ahead = tf.range(1, horizon + 1, dtype=tf.int64)[None, :]
    n_values = panel.n_values

    def windows(index):
        row = tf.gather(rows_t, index)[:, None]
        coming = tf.gather(flat, row + ahead)  # [B, H, F]
        inputs = {"past": tf.gather(flat, row + back), "future": coming[:, :, n_values:]}
        if channel_t is not None:
            inputs["channel"] = tf.gather(channel_t, index)
        target = coming[:, :, 0]
        if weights_t is None:
            return inputs, target
        return inputs, target, tf.gather(weights_t, index)

    n = len(rows)
    if per_series is not None:
        starts = np.flatnonzero(np.r_[True, np.diff(series) != 0]) if n else np.empty(0, int)
        counts = np.diff(np.r_[starts, n])
        seeds = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True).take(1)
        ds = seeds.flat_map(
            lambda s: tf.data.Dataset.from_tensor_slices(
                _epoch_sample(starts, counts, per_series, s)
            )
        )
        n = int(np.minimum(counts, per_series).sum())  # the same every epoch
        ds = ds.apply(tf.data.experimental.assert_cardinality(n))
    else:
        ds = tf.data.Dataset.range(n)
        if shuffle:
            ds = ds.shuffle(n, seed=seed, reshuffle_each_iteration=True)
    ds = ds.batch(batch_size).map(windows, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    return ds.prefetch(tf.data.AUTOTUNE)
