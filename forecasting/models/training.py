"""Train a forecaster under a fixed budget: Adam, early stopping, best weights restored."""

from __future__ import annotations

import logging
import math
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import keras
import numpy as np

from forecasting.config import AUTO, TrainBudget
from forecasting.errors import ConfigError, JobFailed
from forecasting.windowing import WindowedData

log = logging.getLogger(__name__)


@dataclass
class TrainResult:
    """Per-epoch losses; ``best_epoch`` is the epoch whose weights were kept, 0 meaning the
    starting weights (no epoch improved on them on the validation windows)."""

    loss: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    best_epoch: int = 0
    seconds: float = 0.0
    stopped_early: bool = False
    initial_val_loss: float = float("nan")


class TrainingDiverged(JobFailed):
    """The loss became NaN or infinite."""


class _EpochCallback(keras.callbacks.Callback):
    """Hands each epoch's losses to ``on_epoch`` (e.g. MLflow step metrics) and stops on NaN."""

    def __init__(self, on_epoch: Callable[[int, dict], None] | None):
        super().__init__()
        self.on_epoch = on_epoch

    def on_epoch_end(self, epoch, logs=None):
        logs = dict(logs or {})
        bad = [k for k in ("loss", "val_loss") if k in logs and not math.isfinite(float(logs[k]))]
        if bad:
            raise TrainingDiverged(
                f"{bad[0]} is {logs[bad[0]]} at epoch {epoch + 1}: lower the learning rate"
            )
        if self.on_epoch:
            self.on_epoch(epoch, {k: float(v) for k, v in logs.items()})


def verbosity() -> int:
    """Keras's progress bar on a terminal, one line per epoch otherwise."""
    return 1 if sys.stdout.isatty() else 2


def window_scales(past: np.ndarray, period: int) -> np.ndarray:
    """[N, L, F] windows -> [N] mean absolute seasonal difference of each lookback's target.

    The season is ``period`` when the lookback holds more than one, else 1 (the last value).
    """
    y = past[:, :, 0].astype(np.float64)
    m = period if period < y.shape[1] else 1
    return np.mean(np.abs(y[:, m:] - y[:, :-m]), axis=1)


def loss_weights(scales: np.ndarray, floor: float) -> np.ndarray:
    """Sample weights that turn MAE into scaled MAE from each window's scale (``window_scales``);
    a flat lookback's scale is raised to ``floor``."""
    return (1.0 / np.maximum(scales, floor)).astype(np.float32)


def split_scales(windows, period: int) -> np.ndarray:
    """[N] ``window_scales`` of every window of a split, gathered a part at a time (the whole
    split's lookbacks are never held at once)."""
    parts = [window_scales(part.past_target, period) for part in windows.chunks()]
    return np.concatenate(parts) if parts else np.empty(0)


def _keras_loss(name: str):
    return {"mse": "mse", "mae": "mae", "huber": keras.losses.Huber(), "scaled_mae": "mae"}[name]


def train(
    model: keras.Model,
    data: WindowedData,
    budget: TrainBudget,
    on_epoch: Callable[[int, dict], None] | None = None,
    verbose: int | None = None,
    period: int = 1,
) -> TrainResult:
    """Fit ``model`` on the training windows, early-stopping on the validation windows.

    ``period`` is the season the ``scaled_mae`` loss measures each window's scale with: each
    window's absolute error is divided by the mean absolute seasonal difference of its own
    lookback (MASE's scale, from inputs only), so calm and volatile series weigh alike. It is
    MAE with one sample weight per window. A budget of 0 epochs (a warm start's
    ``training.warm_epochs: 0``) trains nothing and keeps the starting weights.
    """
    if AUTO in (budget.max_epochs, budget.batch_size):
        raise ConfigError(
            "training.max_epochs and training.batch_size must be chosen before training"
        )
    train_w, val_w = data.splits["train"], data.splits["val"]
    model.compile(
        optimizer=keras.optimizers.Adam(budget.learning_rate),
        loss=_keras_loss(budget.loss),
        metrics=["mae"],
    )
    stop = keras.callbacks.EarlyStopping(
        monitor="val_loss", patience=budget.patience, restore_best_weights=True
    )
    started = time.perf_counter()
    train_weights = val_weights = None
    if budget.loss == "scaled_mae":
        # One floor for both splits (a tenth of the median training scale), so flat windows do
        # not dominate and the validation loss measures what the training loss measures.
        train_scales = split_scales(train_w, period)
        floor = max(0.1 * float(np.median(train_scales)), 1e-6)
        train_weights = loss_weights(train_scales, floor)
        val_weights = loss_weights(split_scales(val_w, period), floor)
    val_data = val_w.dataset(budget.batch_size, weights=val_weights)
    if budget.windows_per_series is not None:
        per_epoch = int(np.minimum(np.bincount(train_w.series), budget.windows_per_series).sum())
        log.info(
            "%s: %d of %d training windows per epoch (at most %d of each of %d series, "
            "drawn anew every epoch); validation on all %d",
            model.name,
            per_epoch,
            len(train_w),
            budget.windows_per_series,
            len(np.unique(train_w.series)),
            len(val_w),
        )
    # The starting point is a candidate too: with a skip connection and a zero-initialised head
    # the untrained network *is* the naive forecast it corrects, and training that only makes
    # it worse on the validation windows should not be kept.
    initial_val_loss = float(model.evaluate(val_data, verbose=0, return_dict=True)["loss"])
    initial_weights = model.get_weights()
    if budget.max_epochs == 0:  # a warm start without a fine-tuning budget keeps its weights
        log.info("%s: no epochs to train, starting weights kept", model.name)
        seconds = time.perf_counter() - started
        return TrainResult([], [], 0, seconds, False, initial_val_loss)
    history = model.fit(
        train_w.dataset(
            budget.batch_size,
            shuffle=True,
            seed=budget.seed,
            weights=train_weights,
            per_series=budget.windows_per_series,
        ),
        validation_data=val_data,
        epochs=budget.max_epochs,
        callbacks=[stop, _EpochCallback(on_epoch)],
        verbose=verbosity() if verbose is None else verbose,
        shuffle=False,  # the training dataset shuffles itself; Keras cannot shuffle a tf.data.Dataset
    )
    seconds = time.perf_counter() - started
    loss = [float(v) for v in history.history["loss"]]
    val_loss = [float(v) for v in history.history["val_loss"]]
    best_epoch = int(np.argmin(val_loss)) + 1
    if val_loss[best_epoch - 1] >= initial_val_loss:
        model.set_weights(initial_weights)
        best_epoch = 0
        log.warning(
            "%s: no epoch improved on the starting weights' validation loss %.4f (best %.4f); "
            "keeping the starting weights",
            model.name,
            initial_val_loss,
            min(val_loss),
        )
    else:
        log.info(
            "%s: %d epochs in %.1fs, best validation loss %.4f at epoch %d (%.4f before training)",
            model.name,
            len(loss),
            seconds,
            val_loss[best_epoch - 1],
            best_epoch,
            initial_val_loss,
        )
    return TrainResult(
        loss, val_loss, best_epoch, seconds, len(loss) < budget.max_epochs, initial_val_loss
    )
