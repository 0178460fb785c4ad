"""Render a GRU benchmark result as a Markdown table and write it, with JSON, to a folder."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from forecasting.benchmark.gru_speed import BenchmarkResult, Row

JSON_NAME = "gru_benchmark.json"
MARKDOWN_NAME = "gru_benchmark.md"


def _timing(t) -> str:
    return f"{t.median_ms:.1f} [{t.min_ms:.1f}–{t.max_ms:.1f}]"


def _ratio(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}"


def _diff(row: Row) -> str:
    if row.max_abs_diff_output is None:
        return "–"
    return f"{row.max_abs_diff_output:.1e} / {row.max_abs_diff_grad:.1e}"


def markdown_table(result: BenchmarkResult) -> str:
    """The measurements as one Markdown table, preceded by what was run where."""
    env = result.environment
    lines = [
        f"Device: {env.device}; CPU: {env.cpu} ({env.cpu_count} logical cores); "
        f"TensorFlow {env.tensorflow}, Keras {env.keras}.",
        f"keras.layers.GRU ran the {env.keras_gru_kernel}.",
        f"Median [min–max] of {result.repeats} interleaved repeats after {result.warmup} "
        f"warm-up calls. Training step: {result.train_step}. GFLOP/s: {result.flops_note}. "
        "Ratios are keras.layers.GRU's median time / this row's (above 1: faster than Keras). "
        "|Δ| is the max abs difference from keras.layers.GRU with the same weights "
        "(layer outputs / gradients).",
        "",
        "| shape (B, T, D, H) | implementation | params | forward ms | train step ms "
        "| train windows/s | GFLOP/s fwd | GFLOP/s train | keras/ours fwd | keras/ours train "
        "| max abs Δ out / grad |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in result.rows:
        shape = "(" + ", ".join(str(v) for v in row.shape) + ")"
        lines.append(
            f"| {shape} | {row.label} | {row.params:,} | {_timing(row.forward)} "
            f"| {_timing(row.train_step)} | {row.train_windows_per_s:,.0f} "
            f"| {row.forward_gflops:.1f} | {row.train_gflops:.1f} "
            f"| {_ratio(row.forward_ratio_vs_keras)} | {_ratio(row.train_ratio_vs_keras)} "
            f"| {_diff(row)} |"
        )
    if not env.gpus:
        lines += ["", "No GPU was available, so cuDNN was not measured."]
    return "\n".join(lines) + "\n"


def _write_atomically(path: Path, text: str) -> None:
    """Write to a temporary file beside `path`, then rename: never a half-written file."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_report(result: BenchmarkResult, output_dir: Path) -> tuple[Path, Path]:
    """Write the JSON and the Markdown table into `output_dir`; return both paths."""
    output_dir.mkdir(parents=True, exist_ok=True)
    json_path = output_dir / JSON_NAME
    markdown_path = output_dir / MARKDOWN_NAME
    _write_atomically(json_path, json.dumps(result.to_dict(), indent=2) + "\n")
    _write_atomically(markdown_path, markdown_table(result))
    return json_path, markdown_path
