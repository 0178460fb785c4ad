"""`forecast benchmark windowing`: our windowing against ``keras.utils.timeseries_dataset_from_array``.

Both functions cut the same windows from a panel of series: every origin with stride 1,
each window the ``lookback + horizon`` consecutive values ``[o - L + 1, o + H]``, stacked
series after series into one contiguous [N, L + H] float32 array. Ours slices a strided
view per series (:func:`forecasting.windowing.windows.gather`); Keras builds a
``tf.data`` pipeline per series whose batches are copied out as NumPy arrays.

:func:`benchmark_windowing` runs every measurement in a fresh process, so that its peak RSS
(``ru_maxrss``) belongs to that run alone; the reported RSS figure is the growth of the peak
over the baseline taken after imports and data generation. Wall time excludes interpreter
start, imports (TensorFlow's takes seconds) and data generation. tracemalloc is reported for
our NumPy code only (from a second, traced run): it cannot see memory TensorFlow allocates in
C++. Keras takes about a second per series at the default size, so by default it runs on the
first 100 series only and its full-size time is extrapolated linearly (stated in the table);
the ratio keras/ours is measured on that same subset.

Example:

>>> panel = synthetic_panel(n_series=2, length=300)
>>> windows_ours(panel, lookback=168, horizon=24).shape
(218, 192)
"""

from __future__ import annotations

import hashlib
import logging
import os
import platform
import resource
import time
import tracemalloc
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import asdict, dataclass
from multiprocessing import get_context

import numpy as np

from forecasting.benchmarks.report import BenchmarkReport
from forecasting.errors import ConfigError, JobFailed
from forecasting.windowing.windows import gather, origins_between

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WindowingSettings:
    """What to cut: a synthetic panel of ``series`` x ``length`` points, ``lookback + horizon`` windows.

    Attributes:
        series: Series in the panel.
        length: Points per series.
        lookback: Input steps of a window.
        horizon: Target steps of a window.
        keras_series: Series Keras runs on; its full-size time is extrapolated from them.
        batch_size: Keras's batch size.
        check_series: Series compared element by element with a naive Python slice.
        repeat: Runs of our code (Keras runs once).
    """

    series: int = 1000
    length: int = 10_000
    lookback: int = 168
    horizon: int = 24
    keras_series: int = 100
    batch_size: int = 1024
    check_series: int = 3
    repeat: int = 3

    def __post_init__(self) -> None:
        for name, value in asdict(self).items():
            if value < 1:
                raise ConfigError(
                    f"--{name.replace('_', '-')} must be a positive integer, received: {value}"
                )
        if self.length < self.lookback + self.horizon:
            raise ConfigError(
                f"--length {self.length} is shorter than one window (lookback {self.lookback} + "
                f"horizon {self.horizon})"
            )


def synthetic_panel(n_series: int, length: int, seed: int = 0) -> np.ndarray:
    """[S, T] float32 hourly-looking series: a level, a daily cycle and noise."""
    rng = np.random.default_rng(seed)
    hours = np.arange(length, dtype=np.float32)
    level = rng.uniform(10.0, 20.0, size=(n_series, 1)).astype(np.float32)
    amplitude = rng.uniform(1.0, 5.0, size=(n_series, 1)).astype(np.float32)
    daily = np.sin(2.0 * np.pi * hours / 24.0, dtype=np.float32)
    noise = rng.standard_normal((n_series, length), dtype=np.float32)
    return level + amplitude * daily + noise


def windows_per_series(length: int, lookback: int, horizon: int) -> int:
    return max(length - lookback - horizon + 1, 0)


def windows_ours(panel: np.ndarray, lookback: int, horizon: int) -> np.ndarray:
    """[S, T] -> [S * n, L + H] contiguous windows, through our ``gather``."""
    n_series, length = panel.shape
    n = windows_per_series(length, lookback, horizon)
    origins = origins_between(length, lookback, horizon, 0, length)  # every origin, stride 1
    out = np.empty((n_series * n, lookback + horizon), dtype=panel.dtype)
    for s in range(n_series):
        out[s * n : (s + 1) * n] = gather(panel[s], origins, lookback, horizon)  # [n, L + H]
    return out


def windows_keras(
    panel: np.ndarray, lookback: int, horizon: int, batch_size: int = 1024
) -> np.ndarray:
    """The same windows through ``keras.utils.timeseries_dataset_from_array``, one series at a time."""
    import keras

    n_series, length = panel.shape
    n = windows_per_series(length, lookback, horizon)
    out = np.empty((n_series * n, lookback + horizon), dtype=panel.dtype)
    for s in range(n_series):
        ds = keras.utils.timeseries_dataset_from_array(
            panel[s],
            None,
            sequence_length=lookback + horizon,
            sequence_stride=1,
            batch_size=batch_size,
            shuffle=False,
        )
        row = s * n
        for batch in ds:  # [B, L + H] tensors
            values = batch.numpy()
            out[row : row + len(values)] = values
            row += len(values)
        if row != (s + 1) * n:
            raise RuntimeError(f"keras produced {row - s * n} windows for series {s}, expected {n}")
    return out


def maxrss_bytes() -> int:
    """This process's peak resident set size so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


@dataclass
class Measurement:
    seconds: float
    maxrss_before: int  # peak RSS before the call, bytes
    maxrss_after: int  # peak RSS after the call, bytes
    traced_peak: int | None  # tracemalloc peak during the call, bytes (None when not traced)

    @property
    def maxrss_delta(self) -> int:
        return self.maxrss_after - self.maxrss_before


def measure(fn: Callable[[], np.ndarray], trace: bool = False) -> tuple[np.ndarray, Measurement]:
    """Run ``fn`` once: wall time and peak RSS, plus the tracemalloc peak when ``trace``.

    tracemalloc sees NumPy's buffers but not memory TensorFlow allocates in C++, and it
    slows Python-heavy code down, so time an untraced run when both numbers matter.
    """
    before = maxrss_bytes()
    if trace:
        tracemalloc.start()
    start = time.perf_counter()
    result = fn()
    seconds = time.perf_counter() - start
    peak = None
    if trace:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return result, Measurement(seconds, before, maxrss_bytes(), peak)


# --- one measurement, inside its own process -------------------------------------------------


def _worker(kind: str, series: int, settings: WindowingSettings, digest: bool) -> dict:
    """Time ``kind`` ("ours" or "keras") on the first ``series`` series; runs in a fresh process."""
    panel = synthetic_panel(series, settings.length)
    lookback, horizon = settings.lookback, settings.horizon
    if kind == "keras":
        from forecasting.quiet import import_tensorflow_quietly

        import_tensorflow_quietly()  # before the baseline, like NumPy for ours

        def run():
            return windows_keras(panel, lookback, horizon, settings.batch_size)
    else:

        def run():
            return windows_ours(panel, lookback, horizon)

    out, timed = measure(run)
    report = {
        "seconds": timed.seconds,
        "best": None,
        "rss_delta": timed.maxrss_delta,
        "shape": list(out.shape),
        "contiguous": bool(out.flags.c_contiguous),
        "traced_peak": None,
        "sha256": hashlib.sha256(out.data).hexdigest() if digest else None,
    }
    del out
    if kind == "ours":  # cheap enough to repeat; the first run pays for fresh pages
        repeats = [timed.seconds]
        for _ in range(settings.repeat - 1):
            out, again = measure(run)
            repeats.append(again.seconds)
            del out
        report["best"] = min(repeats)
        _, traced = measure(run, trace=True)
        report["traced_peak"] = traced.traced_peak
    return report


def _in_fresh_process(kind: str, series: int, settings: WindowingSettings, digest: bool) -> dict:
    """:func:`_worker` in a newly spawned interpreter (not forked: its peak RSS starts small)."""
    log.info("running %s on %d series ...", kind, series)
    try:
        with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as pool:
            return pool.submit(_worker, kind, series, settings, digest).result()
    except BrokenProcessPool as exc:
        raise JobFailed(
            f"the {kind} windowing process on {series} series died ({exc}); out of memory? "
            "try fewer --series or a shorter --length"
        ) from exc


# --- the comparison ----------------------------------------------------------------------------


def check_identical(settings: WindowingSettings) -> None:
    """Ours, Keras and a naive Python slice agree exactly on the first few series."""
    panel = synthetic_panel(min(settings.check_series, settings.series), settings.length)
    width = settings.lookback + settings.horizon
    naive = np.stack([s[i : i + width] for s in panel for i in range(settings.length - width + 1)])
    ours = windows_ours(panel, settings.lookback, settings.horizon)
    from forecasting.quiet import import_tensorflow_quietly

    import_tensorflow_quietly()
    theirs = windows_keras(panel, settings.lookback, settings.horizon, settings.batch_size)
    if not (np.array_equal(ours, naive) and np.array_equal(ours, theirs)):
        raise JobFailed("windows differ between ours, keras and the naive slice")


def _size(n: int | None) -> str:
    if n is None:
        return "n/a"
    return f"{n / 2**30:.2f} GiB" if n >= 2**30 else f"{n / 2**20:.0f} MiB"


def markdown_table(settings: WindowingSettings, runs: dict[str, dict]) -> str:
    """The table and notes for ``runs`` (``ours_full``, ``ours_subset``, ``keras_subset``)."""
    S, T = settings.series, settings.length
    L, H = settings.lookback, settings.horizon
    sub = min(settings.keras_series, S)
    per = windows_per_series(T, L, H)
    ours_full, ours_sub, keras_sub = runs["ours_full"], runs["ours_subset"], runs["keras_subset"]
    keras_full_s = keras_sub["seconds"] * S / sub
    measured = "measured" if sub == S else f"extrapolated x{S / sub:g} from {sub} series"
    rows = [
        ("ours: `gather` (strided view, copied)", S, ours_full),
        ("ours: `gather` (strided view, copied)", sub, ours_sub),
        (f"keras `timeseries_dataset_from_array` (batch {settings.batch_size})", sub, keras_sub),
    ]
    lines = [
        f"Windows of {L} + {H} = {L + H} steps, stride 1, float32, into one contiguous "
        f"[N, {L + H}] array; {per:,} windows per series of {T:,} points.",
        "",
        f"| method | series | windows | wall time, first run | best of {settings.repeat} "
        "| tracemalloc peak | peak RSS growth |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, n, r in rows:
        best = f"{r['best']:.2f} s" if r["best"] is not None else "(runs once)"
        lines.append(
            f"| {name} | {n:,} | {n * per:,} | {r['seconds']:.2f} s | {best} "
            f"| {_size(r['traced_peak'])} | {_size(r['rss_delta'])} |"
        )
    if sub != S:
        lines.append(
            f"| keras, full size ({measured}) | {S:,} | {S * per:,} | ~{keras_full_s:.0f} s | | n/a | n/a |"
        )
    lines += [
        "",
        f"- keras / ours wall time, first runs, on the same {sub} series: "
        f"**{keras_sub['seconds'] / ours_sub['seconds']:.0f}x**; at full size "
        f"({'measured' if sub == S else 'keras extrapolated'}): "
        f"**{keras_full_s / ours_full['seconds']:.0f}x** against our first run, "
        f"**{keras_full_s / ours_full['best']:.0f}x** against our best.",
        "- A first run also pays the kernel (and, in a VM, the host) for fresh pages of the output "
        "array; repeats reuse them, so the gap between first and best is page faulting, not windowing.",
        f"- Identical windows: SHA-256 of both {sub}-series arrays match, and ours, keras and a naive "
        f"Python slice are element-wise equal on {min(settings.check_series, S)} series.",
        "- Each run is its own process; time excludes imports and data generation. RSS growth is "
        "ru_maxrss after the run minus before it (the output array alone is "
        f"{_size(S * per * (L + H) * 4)} at full size). tracemalloc: our NumPy code, separate traced "
        "run; not meaningful for TensorFlow, whose C++ allocations it cannot see.",
        f"- Machine: {os.cpu_count()} CPUs, Python {platform.python_version()}, NumPy {np.__version__}.",
    ]
    return "\n".join(lines) + "\n"


def benchmark_windowing(settings: WindowingSettings | None = None) -> BenchmarkReport:
    """Cut every window of a synthetic panel ours' way and Keras's way, each in a fresh process.

    Args:
        settings: Panel size, window and Keras subset; default `WindowingSettings()` (1,000
            series x 10,000 points, lookback 168, horizon 24, Keras on 100 series).

    Returns:
        A `BenchmarkReport` named ``windowing``: the Markdown table, every run's time and memory
        as JSON, the settings as MLflow params and the times and the keras/ours ratio as metrics.

    Raises:
        JobFailed: The two ways cut different windows, or a measuring process died.
    """
    settings = settings or WindowingSettings()
    sub = min(settings.keras_series, settings.series)
    # Measuring processes first: a child starts from its parent's peak RSS, so the parent stays
    # small (no TensorFlow, no panel) until they are done.
    runs = {
        "ours_full": _in_fresh_process("ours", settings.series, settings, digest=False),
        "ours_subset": _in_fresh_process("ours", sub, settings, digest=True),
        "keras_subset": _in_fresh_process("keras", sub, settings, digest=True),
    }
    if runs["ours_subset"]["sha256"] != runs["keras_subset"]["sha256"]:
        raise JobFailed(f"windows differ between ours and keras on {sub} series")
    log.info("checking identical windows on %d series ...", settings.check_series)
    check_identical(settings)
    keras_full_s = runs["keras_subset"]["seconds"] * settings.series / sub
    return BenchmarkReport(
        name="windowing",
        markdown=markdown_table(settings, runs),
        data={
            "settings": asdict(settings),
            "windows_per_series": windows_per_series(
                settings.length, settings.lookback, settings.horizon
            ),
            "runs": runs,
            "keras_full_seconds": keras_full_s,
            "keras_full_measured": sub == settings.series,
            "machine": {
                "cpu_count": os.cpu_count(),
                "python": platform.python_version(),
                "numpy": np.__version__,
            },
        },
        params={**asdict(settings), "cpu_count": os.cpu_count(), "numpy": np.__version__},
        metrics={
            "ours_full_seconds": runs["ours_full"]["seconds"],
            "ours_full_best_seconds": runs["ours_full"]["best"],
            "ours_subset_seconds": runs["ours_subset"]["seconds"],
            "keras_subset_seconds": runs["keras_subset"]["seconds"],
            "keras_full_seconds": keras_full_s,
            "keras_over_ours_subset": runs["keras_subset"]["seconds"]
            / runs["ours_subset"]["seconds"],
        },
    )
