"""A scheduled retrain: ``forecast retrain PIPELINE`` in a child process, as of its fire time.

Retraining sits above serving (:mod:`forecasting.jobs`), so the scheduler never imports it:
each run starts ``python -m forecasting retrain`` with the schedule's pipeline in a process of
its own and waits for it in the scheduler's ``retrain`` executor (:data:`RETRAIN_EXECUTOR`),
a thread beside the one that runs predictions, so a retrain never delays a prediction slot.
The child's output goes to ``retrains/<name>-<slot>.log`` in the state folder; its
:class:`RetrainReport` (a JSON file the child writes atomically) says what happened — the new
version, champion or challenger, and why — and goes into the run history.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

from forecasting.exit_status import ExitStatus
from forecasting.files import write_json
from forecasting.serving.schedule.child import error_line, forecast_command, run_recorded
from forecasting.serving.schedule.cron import nominal_run_time, parse_cron, parse_timezone
from forecasting.serving.schedule.history import Outcome, RunHistory

log = logging.getLogger(__name__)

RETRAIN_LOGS = "retrains"  # folder of the children's output, in the state folder


@dataclass(frozen=True)
class RetrainReport:
    """What a retrain did, as the child reports it to the scheduler."""

    mlflow_run_id: str  # the comparison's parent run
    version: str  # the candidate version registered
    family: str  # its model family (lstm, gru, or a baseline)
    promoted: bool  # champion (True) or challenger (False)
    summary: str  # one line: what happened and why

    def save(self, path: str | Path) -> None:
        write_json(path, asdict(self))

    @classmethod
    def load(cls, path: str | Path) -> RetrainReport:
        import json

        return cls(**json.loads(Path(path).read_text()))


def retrain_command(
    pipeline: str, tracking_uri: str, report: Path, name: str, as_of: datetime
) -> list[str]:
    """The child's command line."""
    return forecast_command(
        "retrain",
        pipeline,
        "--tracking-uri",
        tracking_uri,
        "--report",
        str(report),
        "--schedule",
        name,
        "--scheduled-for",
        as_of.isoformat(),
    )


def run_retrain_job(
    name: str,
    cron: str,
    timezone: str,
    pipeline: str,
    misfire_grace_time: int,
    tracking_uri: str,
    state_dir: str,
    cwd: str,
    as_of: datetime | None = None,
) -> Outcome:
    """One run of a retrain schedule: ``forecast retrain`` in a child process. Never raises for
    a failure.

    APScheduler calls this by its import path with the schedule's keyword arguments, in the
    ``retrain`` executor. The child runs in ``cwd`` (where the schedule was added, so relative
    paths in the pipeline mean what they meant there).
    """
    folder = Path(state_dir)
    history = RunHistory(folder)
    if as_of is None:
        tz = parse_timezone(timezone)
        as_of = nominal_run_time(parse_cron(cron, timezone), datetime.now(tz), misfire_grace_time)
    row = history.start(name, as_of)
    logs = folder / RETRAIN_LOGS
    logs.mkdir(parents=True, exist_ok=True)
    stem = f"{name}-{as_of.strftime('%Y%m%dT%H%M%S')}-{row}"
    log_path, report_path = logs / f"{stem}.log", logs / f"{stem}.json"
    command = retrain_command(pipeline, tracking_uri, report_path, name, as_of)
    log.info("schedule %r: retrain as of %s (output in %s)", name, as_of.isoformat(), log_path)
    returncode = run_recorded(history, row, name, command, cwd, log_path)
    if returncode is None:
        return history.get(row)
    if returncode != ExitStatus.OK or not report_path.exists():
        reason = error_line(log_path, returncode, "retrain")
        status = "interrupted" if returncode == ExitStatus.INTERRUPTED else "failed"
        history.finish(row, status, error=reason)
        log.error("schedule %r failed: %s", name, reason)
        return history.get(row)
    report = RetrainReport.load(report_path)
    history.finish(row, "ok", output=report.summary, mlflow_run_id=report.mlflow_run_id)
    log.info("schedule %r: %s", name, report.summary)
    return history.get(row)
