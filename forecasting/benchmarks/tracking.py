"""Log a benchmark report to the MLflow experiment ``benchmarks``, in the product's tracked run."""

from __future__ import annotations

import logging
from pathlib import Path

from forecasting.benchmarks.report import BenchmarkReport
from forecasting.tracking.runs import tracked_run
from forecasting.tracking.store import ensure_experiment, use_store

log = logging.getLogger(__name__)

EXPERIMENT = "benchmarks"


def log_benchmark(report: BenchmarkReport, artifacts: list[Path]) -> str:
    """One run named after the report: its params, tags and metrics, the files as artifacts.

    The run ends FINISHED, or FAILED with its reason (``tracking.runs.tracked_run``). The store
    is ``MLFLOW_TRACKING_URI`` if set, else the project's SQLite store under ``mlruns/``.

    Returns:
        The run id.
    """
    import mlflow

    uri = use_store()
    experiment_id = ensure_experiment(EXPERIMENT, uri)
    with tracked_run(experiment_id=experiment_id, run_name=report.name) as run:
        mlflow.set_tags({"benchmark": report.name, **report.tags})
        if report.params:
            mlflow.log_params(report.params)
        if report.metrics:
            mlflow.log_metrics(report.metrics)
        for path in artifacts:
            mlflow.log_artifact(str(path))
    log.info("logged benchmark run %s to experiment %r at %s", run.info.run_id, EXPERIMENT, uri)
    return run.info.run_id
