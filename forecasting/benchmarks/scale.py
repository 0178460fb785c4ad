"""`forecast benchmark scale`: seconds and peak memory of each step on large synthetic panels.

For each panel size, one fresh (spawned) process runs the product's own steps in order on a
synthetic hourly panel of ``series`` x ``length`` points: ``load`` (`data.load_series` of the
long-format frame), ``windows`` (`windowing.make_windows`), ``train`` (one epoch of the
segment GRU: `models.training.train` with ``max_epochs=1``, its validation pass included),
``backtest`` (`evaluation.backtest.model_backtest`: every backtest window, best of three
timed passes) and ``predict`` (the latest window of every series, `windowing.inference`, and
one forward pass). After each step it records the step's seconds and the process's peak RSS
so far (``ru_maxrss``: it never goes down, so a step's figure is the peak up to its end). It
also reports the bytes the windows hold (the flat panel and the splits' indexes) beside what
the training lookbacks alone would take materialised as one [N, L, F] float32 array.
"""

from __future__ import annotations

import logging
import os
import platform
import resource
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import asdict, dataclass
from multiprocessing import get_context

import numpy as np
import pandas as pd

from forecasting.benchmarks.report import BenchmarkReport
from forecasting.errors import ConfigError, JobFailed

log = logging.getLogger(__name__)

STEPS = ("load", "windows", "train", "backtest", "predict")


@dataclass(frozen=True)
class ScaleSettings:
    """Panel sizes and the forecaster trained on them.

    Attributes:
        series: Panel sizes (series per panel), each measured in its own process.
        length: Points per series (hourly).
        lookback, horizon: The windows.
        units: Width of the GRU.
        batch_size: Windows per training step.
        windows_per_series: Training windows of each series per epoch (None: every window).
    """

    series: tuple[int, ...] = (1_000, 10_000)
    length: int = 2_000
    lookback: int = 168
    horizon: int = 24
    units: int = 32
    batch_size: int = 256
    windows_per_series: int | None = None

    def __post_init__(self) -> None:
        values = {**asdict(self), "series": min(self.series, default=0)}
        for name, value in values.items():
            if value is not None and value < 1:
                raise ConfigError(
                    f"--{name.replace('_', '-')} must be a positive integer, received: {value}"
                )


def synthetic_frame(n_series: int, length: int, seed: int = 0) -> pd.DataFrame:
    """Long-format hourly panel: per series a level, a daily cycle and noise."""
    rng = np.random.default_rng(seed)
    hours = np.arange(length)
    level = rng.uniform(10.0, 20.0, size=(n_series, 1))
    amplitude = rng.uniform(1.0, 5.0, size=(n_series, 1))
    y = level + amplitude * np.sin(2 * np.pi * hours / 24) + rng.standard_normal((n_series, length))
    times = pd.date_range("2024-01-01", periods=length, freq="h")
    return pd.DataFrame(
        {
            "unique_id": np.repeat([f"s{i}" for i in range(n_series)], length),
            "ds": np.tile(times.values, n_series),
            "y": y.ravel(),
        }
    )


def _peak_rss() -> int:
    """This process's peak resident set size so far, bytes (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _worker(n_series: int, settings: ScaleSettings) -> dict:
    """Every step on one panel, in a fresh process: seconds and peak RSS after each."""
    from forecasting.quiet import import_tensorflow_quietly

    import_tensorflow_quietly()
    import keras

    from forecasting.config import ModelSpec, TrainBudget
    from forecasting.data import load_series
    from forecasting.evaluation.backtest import model_backtest
    from forecasting.models.builder import build_forecaster
    from forecasting.models.training import train
    from forecasting.windowing import WindowSpec, make_windows
    from forecasting.windowing.inference import latest_windows

    frame = synthetic_frame(n_series, settings.length)
    out: dict = {"series": n_series, "baseline_rss": _peak_rss(), "steps": {}}
    state: dict = {}
    L, H = settings.lookback, settings.horizon

    def load():
        state["data"] = load_series(frame, name="synthetic")

    def windows():
        state["wd"] = make_windows(state["data"], WindowSpec(lookback=L, horizon=H))

    def fit():
        wd = state["wd"]
        keras.utils.set_random_seed(0)
        state["model"] = build_forecaster(
            "gru",
            ModelSpec(arch="segment", units=settings.units, segment=24, skip="seasonal"),
            L,
            H,
            wd.n_features,
            wd.n_calendar,
            24,
            wd.calendar_names,
        )
        budget = TrainBudget(
            max_epochs=1,
            batch_size=settings.batch_size,
            windows_per_series=settings.windows_per_series,
        )
        train(state["model"], wd, budget, verbose=0, period=24)

    def backtest():
        model_backtest("gru", state["model"], state["wd"], 24)

    def predict():
        wd = state["wd"]
        latest = latest_windows(state["data"], L, H, {s.uid: s.scaler for s in wd.series})
        state["model"].predict(latest.inputs, batch_size=1024, verbose=0)

    for name, step in zip(STEPS, (load, windows, fit, backtest, predict), strict=True):
        started = time.perf_counter()
        step()
        out["steps"][name] = {"seconds": time.perf_counter() - started, "peak_rss": _peak_rss()}
        log.info("%d series: %s took %.1fs", n_series, name, out["steps"][name]["seconds"])
    wd = state["wd"]
    train_w = wd.splits["train"]
    out["windows"] = {name: len(w) for name, w in wd.splits.items()}
    out["held_bytes"] = {
        "panel": wd.panel.nbytes,
        "index": sum(w.nbytes for w in wd.splits.values()),
        "materialised_train_past": len(train_w) * L * wd.n_features * 4,
    }
    return out


def _in_fresh_process(n_series: int, settings: ScaleSettings) -> dict:
    """:func:`_worker` in a newly spawned interpreter, so that its peak RSS is its own."""
    log.info("measuring a panel of %d series x %d points ...", n_series, settings.length)
    try:
        with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as pool:
            return pool.submit(_worker, n_series, settings).result()
    except BrokenProcessPool as exc:
        raise JobFailed(
            f"the process measuring {n_series} series died ({exc}); out of memory? "
            "try fewer --series or a shorter --length"
        ) from exc


def _mb(n: int) -> str:
    return f"{n / 1e6:,.1f} MB"


def markdown_table(settings: ScaleSettings, runs: list[dict]) -> str:
    lines = [
        f"## Large panels: {settings.length:,} hourly points per series, lookback "
        f"{settings.lookback}, horizon {settings.horizon}",
        "",
        f"GRU segment network of {settings.units} units, batch {settings.batch_size}, one "
        "training epoch ("
        + (
            "every window"
            if settings.windows_per_series is None
            else f"at most {settings.windows_per_series} windows of each series"
        )
        + f"); {os.cpu_count()} CPU cores. Seconds of each step; peak RSS of the process up "
        "to the end of the step.",
        "",
        "| series | training windows | "
        + " | ".join(f"{s} s / peak RSS" for s in STEPS)
        + " | panel + index held | training lookbacks materialised |",
        "|---:|---:|" + "---:|" * len(STEPS) + "---:|---:|",
    ]
    for run in runs:
        cells = [
            f"{run['steps'][s]['seconds']:.1f} / {_mb(run['steps'][s]['peak_rss'])}" for s in STEPS
        ]
        held = run["held_bytes"]
        lines.append(
            f"| {run['series']:,} | {run['windows']['train']:,} | "
            + " | ".join(cells)
            + f" | {_mb(held['panel'] + held['index'])} | {_mb(held['materialised_train_past'])} |"
        )
    return "\n".join(lines) + "\n"


def benchmark_scale(settings: ScaleSettings | None = None) -> BenchmarkReport:
    """Load, window, train one epoch, backtest and predict on each panel size, each in a fresh
    process; a `BenchmarkReport` named ``scale``.

    Raises:
        JobFailed: A measuring process died (out of memory, most likely).
    """
    settings = settings or ScaleSettings()
    runs = [_in_fresh_process(n, settings) for n in settings.series]
    metrics = {}
    for run in runs:
        for step in STEPS:
            metrics[f"s{run['series']}_{step}_seconds"] = run["steps"][step]["seconds"]
        metrics[f"s{run['series']}_peak_rss_mb"] = run["steps"][STEPS[-1]]["peak_rss"] / 1e6
    params = {**asdict(settings), "series": ",".join(str(n) for n in settings.series)}
    return BenchmarkReport(
        name="scale",
        markdown=markdown_table(settings, runs),
        data={
            "settings": asdict(settings),
            "runs": runs,
            "machine": {"cpu_count": os.cpu_count(), "python": platform.python_version()},
        },
        params={**params, "cpu_count": os.cpu_count()},
        metrics=metrics,
    )
