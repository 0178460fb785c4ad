"""Windowing benchmark: our vectorised windows vs keras.utils.timeseries_dataset_from_array.

Cuts every (lookback + horizon) window, stride 1, from a synthetic univariate float32 panel
(default 1,000 series x 10,000 points, lookback 168, horizon 24) into one contiguous
[N, L + H] array, both ways, and prints a Markdown table.

Every measurement runs in a fresh subprocess so that its peak RSS (``ru_maxrss``) belongs
to that run alone; the reported RSS figure is the growth of the peak over the baseline
taken after imports and data generation. Wall time excludes interpreter start, imports
(TensorFlow's takes seconds) and data generation. tracemalloc is reported for our NumPy
code only (from a second, traced run): it cannot see memory TensorFlow allocates in C++.

Keras takes about a second per series here, so by default it runs on the first 100
series only and its full-size time is extrapolated linearly (stated in the table). The
ratio keras/ours is measured on that same subset; pass ``--keras-series 1000`` to measure
Keras at full size instead.

Usage: .venv/bin/python benchmarks/windowing_benchmark.py [--series 1000] [--keras-series 100]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import subprocess
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from forecasting.windowing.benchmark import (  # noqa: E402
    measure,
    synthetic_panel,
    windows_keras,
    windows_ours,
    windows_per_series,
)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--series", type=int, default=1000)
    p.add_argument("--length", type=int, default=10_000)
    p.add_argument("--lookback", type=int, default=168)
    p.add_argument("--horizon", type=int, default=24)
    p.add_argument("--keras-series", type=int, default=100, help="series Keras runs on (extrapolated)")
    p.add_argument("--batch-size", type=int, default=1024, help="Keras batch size")
    p.add_argument("--check-series", type=int, default=3, help="series compared element by element")
    p.add_argument("--repeat", type=int, default=3, help="runs of our code (Keras runs once)")
    p.add_argument("--worker", choices=["ours", "keras"], help=argparse.SUPPRESS)
    p.add_argument("--digest", action="store_true", help=argparse.SUPPRESS)
    return p.parse_args(argv)


# --- one measurement, inside its own process --------------------------------------------


def worker(args: argparse.Namespace) -> dict:
    panel = synthetic_panel(args.series, args.length)
    L, H = args.lookback, args.horizon
    if args.worker == "keras":
        import keras  # noqa: F401  (imported before the baseline, like NumPy for ours)

        def run():
            return windows_keras(panel, L, H, args.batch_size)
    else:

        def run():
            return windows_ours(panel, L, H)

    out, timed = measure(run)
    report = {
        "seconds": timed.seconds,
        "best": None,
        "rss_delta": timed.maxrss_delta,
        "shape": list(out.shape),
        "contiguous": bool(out.flags.c_contiguous),
        "traced_peak": None,
    }
    if args.digest:
        report["sha256"] = hashlib.sha256(out.data).hexdigest()
    del out
    if args.worker == "ours":  # cheap enough to repeat; the first run pays for fresh pages
        repeats = [timed.seconds]
        for _ in range(args.repeat - 1):
            out, again = measure(run)
            repeats.append(again.seconds)
            del out
        report["best"] = min(repeats)
        _, traced = measure(run, trace=True)
        report["traced_peak"] = traced.traced_peak
    return report


def spawn(args: argparse.Namespace, kind: str, series: int, digest: bool) -> dict:
    cmd = [
        sys.executable, __file__, "--worker", kind, "--series", str(series),
        "--length", str(args.length), "--lookback", str(args.lookback),
        "--horizon", str(args.horizon), "--batch-size", str(args.batch_size),
        "--repeat", str(args.repeat),
    ]
    if digest:
        cmd.append("--digest")
    print(f"running {kind} on {series} series ...", file=sys.stderr, flush=True)
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        sys.stderr.write(done.stderr)
        raise SystemExit(f"{kind} worker failed with exit status {done.returncode}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# --- the comparison -----------------------------------------------------------------------


def check_identical(args: argparse.Namespace) -> None:
    """Ours, Keras and a naive Python slice agree exactly on the first few series."""
    panel = synthetic_panel(args.series, args.length)[: args.check_series]
    W = args.lookback + args.horizon
    naive = np.stack([s[i : i + W] for s in panel for i in range(args.length - W + 1)])
    ours = windows_ours(panel, args.lookback, args.horizon)
    theirs = windows_keras(panel, args.lookback, args.horizon, args.batch_size)
    if not (np.array_equal(ours, naive) and np.array_equal(ours, theirs)):
        raise SystemExit("windows differ between ours, keras and the naive slice")


def size(n: int | None) -> str:
    if n is None:
        return "n/a"
    return f"{n / 2**30:.2f} GiB" if n >= 2**30 else f"{n / 2**20:.0f} MiB"


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.worker:
        print(json.dumps(worker(args)))
        return 0
    S, T, L, H = args.series, args.length, args.lookback, args.horizon
    sub = min(args.keras_series, S)
    per = windows_per_series(T, L, H)

    # Workers first: a child inherits its parent's peak RSS, so the parent stays small until then.
    ours_full = spawn(args, "ours", S, digest=False)
    ours_sub = spawn(args, "ours", sub, digest=True)
    keras_sub = spawn(args, "keras", sub, digest=True)
    if ours_sub["sha256"] != keras_sub["sha256"]:
        raise SystemExit(f"windows differ between ours and keras on {sub} series")
    print(f"checking identical windows on {args.check_series} series ...", file=sys.stderr, flush=True)
    check_identical(args)

    scale = S / sub
    keras_full_s = keras_sub["seconds"] * scale
    measured = "measured" if sub == S else f"extrapolated x{scale:g} from {sub} series"
    rows = [
        ("ours: `gather` (strided view, copied)", S, ours_full),
        ("ours: `gather` (strided view, copied)", sub, ours_sub),
        (f"keras `timeseries_dataset_from_array` (batch {args.batch_size})", sub, keras_sub),
    ]
    lines = [
        f"Windows of {L} + {H} = {L + H} steps, stride 1, float32, into one contiguous "
        f"[N, {L + H}] array; {per:,} windows per series of {T:,} points.",
        "",
        f"| method | series | windows | wall time, first run | best of {args.repeat} "
        "| tracemalloc peak | peak RSS growth |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, n, r in rows:
        best = f"{r['best']:.2f} s" if r["best"] is not None else "(runs once)"
        lines.append(
            f"| {name} | {n:,} | {n * per:,} | {r['seconds']:.2f} s | {best} | {size(r['traced_peak'])} "
            f"| {size(r['rss_delta'])} |"
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
        f"Python slice are element-wise equal on {args.check_series} series.",
        "- Each run is its own subprocess; time excludes imports and data generation. RSS growth is "
        "ru_maxrss after the run minus before it (the output array alone is "
        f"{size(S * per * (L + H) * 4)} at full size). tracemalloc: our NumPy code, separate traced "
        "run; not meaningful for TensorFlow, whose C++ allocations it cannot see.",
        f"- Machine: {os.cpu_count()} CPUs, Python {platform.python_version()}, NumPy {np.__version__}.",
    ]
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
