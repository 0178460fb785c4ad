"""Speed benchmark of the product's GRU against Keras's recurrent layers.

`benchmark_gru` is the one entry point: measure, write JSON and Markdown, log to MLflow.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from forecasting.benchmark.gru_speed import (
    DEFAULT_SHAPES,
    QUICK_SHAPES,
    BenchmarkResult,
    run_gru_benchmark,
)
from forecasting.benchmark.report import markdown_table, write_report

__all__ = ["DEFAULT_SHAPES", "QUICK_SHAPES", "BenchmarkReport", "benchmark_gru"]

log = logging.getLogger(__name__)


@dataclass
class BenchmarkReport:
    result: BenchmarkResult
    table: str
    json_path: Path
    markdown_path: Path
    mlflow_run_id: str | None


def benchmark_gru(
    shapes=None,
    repeats: int = 10,
    quick: bool = False,
    output_dir: Path | str = "benchmarks",
    log_mlflow: bool = True,
    extra_implementations=(),
    xla: bool = False,
) -> BenchmarkReport:
    """Run the GRU speed benchmark and keep its results.

    Args:
        shapes: (batch, steps, inputs, units) tuples; default `DEFAULT_SHAPES`
            (`QUICK_SHAPES` with `quick=True`).
        repeats: Timed repeats per implementation and shape (after warm-up).
        quick: Tiny shapes, one repeat, one warm-up call: checks the plumbing, not speed.
        output_dir: Folder for `gru_benchmark.json` and `gru_benchmark.md`.
        log_mlflow: Log both files and the environment to the MLflow experiment `benchmarks`.
        extra_implementations: Further `forecasting.layers.GRU(implementation=...)` values to
            measure beside the default one.
        xla: Compile the forward and the training step with XLA, as `model.fit` does by
            default; otherwise plain graph mode.

    Returns:
        A `BenchmarkReport` with the result, the Markdown table, the file paths and the
        MLflow run id (None without MLflow).
    """
    if quick:
        shapes, repeats, warmup = shapes or QUICK_SHAPES, 1, 1
    else:
        shapes, warmup = shapes or DEFAULT_SHAPES, 2
    result = run_gru_benchmark(shapes, repeats, warmup, extra_implementations, xla)
    json_path, markdown_path = write_report(result, Path(output_dir))
    log.info("wrote %s and %s", json_path, markdown_path)
    run_id = None
    if log_mlflow:
        from forecasting.benchmark.tracking import log_to_mlflow

        run_id = log_to_mlflow(result, [json_path, markdown_path])
    return BenchmarkReport(result, markdown_table(result), json_path, markdown_path, run_id)
