"""What every benchmark part hands back, and where it goes: stdout, MLflow and, if asked, a folder.

A part (speed, windowing, accuracy) measures and returns a :class:`BenchmarkReport`: its
Markdown table, the full result as JSON-ready data, and the params, tags and metrics for
MLflow. :func:`publish` writes ``<name>.md`` and ``<name>.json`` into the ``--out`` folder
when one is given, logs both to the MLflow experiment ``benchmarks`` (staged in a temporary
folder that is removed afterwards when there is no ``--out``), and writes nowhere else: there
is no default folder, so a benchmark run from a checkout leaves the source tree untouched.
"""

from __future__ import annotations

import logging
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from forecasting.files import write_bytes, write_json

log = logging.getLogger(__name__)


@dataclass
class BenchmarkReport:
    """One benchmark's result, ready to print, write and log.

    Attributes:
        name: Run name in MLflow, value of the run's ``benchmark`` tag and stem of both files.
        markdown: The table (with what was run where) that is printed and saved as ``.md``.
        data: Everything measured, saved as ``.json``.
        params: MLflow params (settings and environment).
        tags: MLflow tags beside ``benchmark``.
        metrics: MLflow metrics (the headline numbers).
    """

    name: str
    markdown: str
    data: dict
    params: dict[str, object] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)


@dataclass
class Published:
    """Where a report went: the files kept in ``--out`` (none without it) and the MLflow run."""

    report: BenchmarkReport
    files: list[Path]
    mlflow_run_id: str | None


def write_files(report: BenchmarkReport, folder: Path) -> list[Path]:
    """Write ``<name>.json`` and ``<name>.md`` into ``folder`` atomically; return both paths."""
    json_path = folder / f"{report.name}.json"
    markdown_path = folder / f"{report.name}.md"
    write_json(json_path, report.data)
    write_bytes(markdown_path, report.markdown.encode("utf-8"))
    log.info("wrote %s and %s", json_path, markdown_path)
    return [json_path, markdown_path]


def publish(
    report: BenchmarkReport, out: Path | str | None = None, log_mlflow: bool = True
) -> Published:
    """Keep a report: files in ``out`` if given, and a run in the MLflow experiment ``benchmarks``.

    Args:
        report: What a part measured.
        out: Folder for the JSON and Markdown files; None writes no file that outlives the call.
        log_mlflow: Log both files as artifacts, with the report's params, tags and metrics.

    Returns:
        The files kept and the MLflow run id (None without MLflow).
    """
    files = write_files(report, Path(out)) if out is not None else []
    run_id = None
    if log_mlflow:
        from forecasting.benchmarks.tracking import log_benchmark

        if files:
            run_id = log_benchmark(report, files)
        else:
            with tempfile.TemporaryDirectory(prefix="forecast-benchmark-") as staging:
                run_id = log_benchmark(report, write_files(report, Path(staging)))
    return Published(report, files, run_id)
