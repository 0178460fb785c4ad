"""PNG plots people would rather look at than read: forecasts, learning curves, comparisons.

The figures are ``matplotlib.figure.Figure`` objects, not pyplot's: importing this module
leaves the caller's backend alone (a notebook keeps its inline plots), and ``savefig``
renders the PNG with the Agg canvas whatever that backend is.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

# The numbers behind ``backtest_mase.png``, logged beside it on a comparison's parent run: one
# row per forecaster (``lstm``, ``gru``, ``seasonal_naive``, ``naive``), the backtest MASE and
# its 95% bootstrap interval (``mase``, ``low``, ``high``). Monitoring reads a version's
# expectation and band from it.
BACKTEST_BANDS = "backtest_mase_bands.csv"


def _save(fig: Figure, path) -> None:
    fig.tight_layout()
    fig.savefig(path, dpi=100)


def _pick_windows(test, n_series: int) -> list[int]:
    """One representative window per series: the last window of the first fold."""
    picks = []
    for s in np.unique(test.series)[:n_series]:
        rows = np.flatnonzero((test.series == s) & (test.fold == test.fold[test.series == s].min()))
        picks.append(int(rows[-1]))
    return picks


def forecasts_vs_actuals(
    path,
    data,
    forecasts: dict[str, np.ndarray],
    n_series: int = 4,
    title: str = "",
    bands: dict[str, dict[int, tuple[np.ndarray, np.ndarray]]] | None = None,
) -> None:
    """History, actuals and each forecaster's forecast for one window of a few series.

    ``bands``: per forecaster, its prediction intervals ``{level: (lower, upper)}`` ([N, H]
    each), shaded around its forecast (wider levels lighter)."""
    bands = bands or {}
    test = data.splits["test"]
    picks = _pick_windows(test, n_series)
    history, actual, times = data.history(test), data.actuals(test), data.target_times(test)
    fig = Figure(figsize=(10, 2.6 * len(picks)))
    axes = fig.subplots(len(picks), 1, squeeze=False)
    for ax, row in zip(axes[:, 0], picks, strict=True):
        s = data.series[test.series[row]]
        o = test.origin[row]
        past_t = s.times[o - data.spec.lookback + 1 : o + 1]
        ax.plot(past_t, history[row], color="0.55", lw=1, label="history")
        ax.plot(times[row], actual[row], color="black", lw=1.6, label="actual")
        for name, fc in forecasts.items():
            (line,) = ax.plot(times[row], fc[row], lw=1.3, label=name)
            for level, (lo, hi) in sorted(bands.get(name, {}).items(), reverse=True):
                ax.fill_between(
                    times[row],
                    lo[row],
                    hi[row],
                    color=line.get_color(),
                    alpha=0.12 if level >= 90 else 0.25,
                    lw=0,
                    label=f"{name} {level}% interval",
                )
        ax.set_title(f"{s.uid}: forecast from {s.times[o]}", fontsize=10)
        ax.legend(fontsize=8, ncol=len(forecasts) + 2, loc="upper left")
    if title:
        fig.suptitle(title)
    _save(fig, path)


def learning_curve(
    path,
    loss: list[float],
    val_loss: list[float],
    best_epoch: int,
    title: str,
    initial_val_loss: float = float("nan"),
) -> None:
    """Train and validation loss per epoch; epoch 0 is the untrained model's validation loss."""
    fig = Figure(figsize=(7, 4))
    ax = fig.subplots()
    epochs = np.arange(1, len(loss) + 1)
    ax.plot(epochs, loss, marker="o", label="train loss (MSE, scaled)")
    if np.isfinite(initial_val_loss):
        ax.plot(
            np.arange(0, len(val_loss) + 1),
            [initial_val_loss, *val_loss],
            marker="o",
            label="validation loss",
        )
    else:
        ax.plot(epochs, val_loss, marker="o", label="validation loss")
    kept = (
        f"best epoch {best_epoch} (weights restored)"
        if best_epoch
        else "starting weights kept (no epoch improved)"
    )
    ax.axvline(best_epoch, color="0.5", ls="--", lw=1, label=kept)
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    ax.set_yscale("log")
    ax.set_title(title)
    ax.legend()
    _save(fig, path)


def comparison(
    path, table: pd.DataFrame, data, forecasts: dict[str, np.ndarray], metric: str
) -> None:
    """Bar chart of the primary metric per forecaster beside one forecast window per series."""
    fig = Figure(figsize=(12, 5))
    ax_bar = fig.add_subplot(1, 3, 1)
    colors = ["tab:blue", "tab:orange", "tab:green", "tab:red"]
    ax_bar.bar(table.index, table[metric], color=colors[: len(table)])
    ax_bar.set_ylabel(metric.upper())
    ax_bar.set_title(f"{metric.upper()} on the backtest (lower is better)", fontsize=10)
    ax_bar.tick_params(axis="x", rotation=30)
    ax = fig.add_subplot(1, 3, (2, 3))
    test = data.splits["test"]
    row = _pick_windows(test, 1)[0]
    times = data.target_times(test)[row]
    ax.plot(times, data.actuals(test)[row], color="black", lw=1.8, label="actual")
    for name, fc in forecasts.items():
        ax.plot(times, fc[row], lw=1.3, label=name)
    ax.set_title(f"{data.series[test.series[row]].uid}: one backtest window", fontsize=10)
    ax.legend(fontsize=8)
    _save(fig, path)


def bootstrap_mase(
    window_errors: dict[str, np.ndarray],
    series: np.ndarray,
    n_draws: int = 2000,
    level: float = 0.95,
    seed: int = 0,
) -> pd.DataFrame:
    """Backtest MASE of each forecaster with a bootstrap interval, one row per forecaster.

    ``window_errors[name]`` holds each backtest window's MAE over its series' MASE scale, and
    ``series`` each window's series: the MASE of a series is the mean over its windows, the
    backtest's MASE the mean over series (NaN series left out, as in the table). Each draw
    resamples the windows within every series with replacement — the same draw for every
    forecaster — and recomputes that mean; the interval holds the central ``level`` of the
    draws. Windows of a series overlap in time, so their errors are correlated and the
    interval is, if anything, too narrow: a guide to the spread, not a test.
    """
    rng = np.random.default_rng(seed)
    groups = [np.flatnonzero(series == s) for s in np.unique(series)]
    draws = [rng.choice(rows, size=(n_draws, len(rows))) for rows in groups]
    rows = {}
    for name, errors in window_errors.items():
        errors = np.asarray(errors, dtype=np.float64)
        with np.errstate(invalid="ignore"):
            estimate = np.nanmean([errors[g].mean() for g in groups])
            per_draw = np.nanmean(np.stack([errors[d].mean(axis=1) for d in draws]), axis=0)
        tail = 100.0 * (1.0 - level) / 2.0
        low, high = np.nanpercentile(per_draw, [tail, 100.0 - tail])
        rows[name] = {"mase": float(estimate), "low": float(low), "high": float(high)}
    return pd.DataFrame.from_dict(rows, orient="index", columns=["mase", "low", "high"])


def backtest_mase(
    path,
    window_errors: dict[str, np.ndarray],
    series: np.ndarray,
    winner: str | None = None,
    baselines: tuple[str, ...] = ("seasonal naive", "naive"),
    n_draws: int = 2000,
) -> pd.DataFrame:
    """Bars of backtest MASE per model and baseline (grey) with 95% bootstrap intervals; the
    winner's bar is marked, a dashed line at the first baseline's MASE. Returns the numbers."""
    stats = bootstrap_mase(window_errors, series, n_draws=n_draws)
    names = list(stats.index)
    colors = ["0.7" if n in baselines else "tab:blue" if n == winner else "tab:cyan" for n in names]
    baseline = baselines[0] if baselines else None
    fig = Figure(figsize=(8, 5.2))
    ax = fig.subplots()
    x = np.arange(len(names))
    below = (stats["mase"] - stats["low"]).clip(lower=0).to_numpy()
    above = (stats["high"] - stats["mase"]).clip(lower=0).to_numpy()
    ax.bar(x, stats["mase"], color=colors, yerr=[below, above], capsize=6, ecolor="black")
    for xi, (_, row) in zip(x, stats.iterrows(), strict=True):
        ax.annotate(
            f"{row['mase']:.3f}\n[{row['low']:.3f}, {row['high']:.3f}]",
            (xi, row["high"] if np.isfinite(row["high"]) else row["mase"]),
            xytext=(0, 4),
            textcoords="offset points",
            ha="center",
            va="bottom",
            fontsize=9,
        )
    if baseline in stats.index and np.isfinite(stats.loc[baseline, "mase"]):
        ax.axhline(stats.loc[baseline, "mase"], color="0.3", ls="--", lw=1, label=baseline)
        ax.legend(loc="upper left", fontsize=8)
    ax.set_xticks(x, [f"{n}\n(winner)" if n == winner else n for n in names])
    ax.set_ylabel("MASE (lower is better)")
    top = np.nanmax(stats["high"].to_numpy()) if np.isfinite(stats["high"]).any() else 1.0
    ax.set_ylim(0, top * 1.25)
    ax.set_title("Backtest MASE per model and baseline")
    fig.text(
        0.5,
        0.01,
        "Bar: mean over series of the backtest MASE. Error bar: 95% bootstrap interval "
        f"({n_draws} draws of\nthe backtest windows within each series; overlapping windows "
        "make it, if anything, too narrow).",
        ha="center",
        va="bottom",
        fontsize=8,
        color="0.25",
    )
    fig.tight_layout(rect=(0, 0.07, 1, 1))
    fig.savefig(path, dpi=100)
    return stats


def realised_error(
    path,
    as_of: pd.DatetimeIndex,
    mase: np.ndarray,
    baseline_mase: np.ndarray,
    expected: float,
    band: tuple[float, float],
    limit: float,
    baseline: str = "baseline",
    title: str = "",
    window: np.ndarray | None = None,
) -> None:
    """Realised MASE of each complete forecast by as-of time, with the best baseline's on the
    same points, against the backtest MASE (dashed), its 95% bootstrap band (shaded) and the
    drift alarm's limit (red), which ``window`` (the mean over the last K forecasts) is held to."""
    fig = Figure(figsize=(9, 4.8))
    ax = fig.subplots()
    if np.isfinite(band[0]) and np.isfinite(band[1]):
        ax.axhspan(band[0], band[1], color="tab:blue", alpha=0.15, label="backtest 95% band")
    if np.isfinite(expected):
        ax.axhline(expected, color="tab:blue", ls="--", lw=1, label=f"backtest {expected:.3f}")
    if np.isfinite(limit):
        ax.axhline(limit, color="tab:red", lw=1, label=f"alarm above {limit:.3f}")
    ax.plot(as_of, mase, "o-", color="tab:blue", label="model (realised)")
    ax.plot(as_of, baseline_mase, "s:", color="0.5", label=f"{baseline} (realised)")
    if window is not None and np.isfinite(window).any():
        ax.plot(as_of, window, "-", color="tab:red", alpha=0.5, lw=3, label="mean of the last K")
    ax.set_xlabel("as-of time of the forecast")
    ax.set_ylabel("MASE (lower is better)")
    ax.set_title(title or "Realised error against the backtest")
    ax.legend(loc="upper left", fontsize=8)
    fig.autofmt_xdate()
    _save(fig, path)
