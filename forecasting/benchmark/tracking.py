"""Log a GRU benchmark to the MLflow experiment `benchmarks`."""

from __future__ import annotations

import logging
from pathlib import Path

from forecasting.benchmark.gru_speed import BenchmarkResult
from forecasting.tracking.store import ensure_experiment, use_store

log = logging.getLogger(__name__)

EXPERIMENT = "benchmarks"


def log_to_mlflow(result: BenchmarkResult, artifacts: list[Path]) -> str:
    """One run with the environment as params/tags, ratios as metrics, files as artifacts.

    Returns the run id. The store is `MLFLOW_TRACKING_URI` if set, else the project's
    SQLite store under `mlruns/`.
    """
    import mlflow

    uri = use_store()
    experiment_id = ensure_experiment(EXPERIMENT, uri)
    env = result.environment
    with mlflow.start_run(experiment_id=experiment_id, run_name="gru-speed") as run:
        mlflow.set_tags(
            {
                "benchmark": "gru_speed",
                "device": env.device,
                "keras_gru_kernel": env.keras_gru_kernel,
                "cudnn_available": str(env.cudnn_available),
            }
        )
        mlflow.log_params(
            {
                "device": env.device,
                "cpu": env.cpu,
                "cpu_count": env.cpu_count,
                "tensorflow": env.tensorflow,
                "keras": env.keras,
                "keras_gru_kernel": env.keras_gru_kernel,
                "repeats": result.repeats,
                "warmup": result.warmup,
                "xla": result.xla,
                "shapes": ";".join(",".join(map(str, s)) for s in result.shapes),
            }
        )
        metrics = {}
        for row in result.rows:
            prefix = f"{row.implementation}.{'x'.join(map(str, row.shape))}"
            prefix = prefix.replace("[", "_").replace("]", "")
            metrics[f"{prefix}.forward_ms"] = row.forward.median_ms
            metrics[f"{prefix}.train_step_ms"] = row.train_step.median_ms
            if row.train_ratio_vs_keras is not None:
                metrics[f"{prefix}.train_ratio_vs_keras"] = row.train_ratio_vs_keras
                metrics[f"{prefix}.forward_ratio_vs_keras"] = row.forward_ratio_vs_keras
        mlflow.log_metrics(metrics)
        for path in artifacts:
            mlflow.log_artifact(str(path))
        log.info(
            "logged benchmark run %s to experiment %r at %s", run.info.run_id, EXPERIMENT, uri
        )
        return run.info.run_id
