"""A scheduled evaluation: ``forecast evaluate`` in a child process, at each slot.

Monitoring sits above serving, so the scheduler never imports it: each run starts ``python -m
forecasting evaluate`` with the schedule's flags in a process of its own and waits for it in the
scheduler's background executor (:data:`~forecasting.serving.schedule.store.RETRAIN_EXECUTOR`),
so a prediction slot never waits for it. The child's output goes to
``evaluations/<name>-<slot>-<row>.log`` in the state folder. Its exit status is the outcome:
0 is ``ok`` (its verdict lines as the output), 3 is ``drift`` (the alarm line: the check worked
and found drift, so the run did not fail), anything else ``failed`` with the child's one-line
error.
"""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path

from forecasting.exit_status import ExitStatus
from forecasting.serving.schedule.child import error_line, forecast_command, run_recorded
from forecasting.serving.schedule.cron import nominal_run_time, parse_cron, parse_timezone
from forecasting.serving.schedule.history import Outcome, RunHistory

log = logging.getLogger(__name__)

EVALUATION_LOGS = "evaluations"  # folder of the children's output, in the state folder
DRIFT = "drift"  # the history status of a run that raised the drift alarm
# How `forecast evaluate` prints its verdict, one line per model version, and its MLflow run.
VERDICTS = ("drift alarm:", "no drift:", "not judged:")
MLFLOW_RUN = "MLflow run: "


def evaluate_command(
    forecasts: str, actuals: str, model: str, tracking_uri: str, arguments: list[str]
) -> list[str]:
    """The child's command line: the schedule's files, model and store, then its other flags."""
    return forecast_command(
        "evaluate",
        "--forecasts",
        forecasts,
        "--actuals",
        actuals,
        *(["--model", model] if model else []),
        "--tracking-uri",
        tracking_uri,
        *arguments,
    )


def _printed(log_path: Path) -> tuple[list[str], str | None]:
    """The verdict lines the child printed and its last MLflow run id."""
    lines = [line.strip() for line in log_path.read_text(errors="replace").splitlines()]
    verdicts = [line for line in lines if line.startswith(VERDICTS)]
    runs = [
        line.removeprefix(MLFLOW_RUN).split()[0] for line in lines if line.startswith(MLFLOW_RUN)
    ]
    return verdicts, (runs[-1] if runs else None)


def run_evaluate_job(
    name: str,
    cron: str,
    timezone: str,
    forecasts: str,
    actuals: str,
    arguments: list[str],
    model: str,
    misfire_grace_time: int,
    tracking_uri: str,
    state_dir: str,
    cwd: str,
    as_of: datetime | None = None,
) -> Outcome:
    """One run of an evaluate schedule: ``forecast evaluate`` in a child process. Never raises
    for a failure.

    APScheduler calls this by its import path with the schedule's keyword arguments, in the
    background executor. ``as_of`` is the slot the history row belongs to (default: the fire
    time this run stands for); ``forecast evaluate`` itself judges the forecast files and
    actuals as they are when it runs. The child runs in ``cwd``, where the schedule was added.
    """
    folder = Path(state_dir)
    history = RunHistory(folder)
    if as_of is None:
        tz = parse_timezone(timezone)
        as_of = nominal_run_time(parse_cron(cron, timezone), datetime.now(tz), misfire_grace_time)
    row = history.start(name, as_of)
    logs = folder / EVALUATION_LOGS
    logs.mkdir(parents=True, exist_ok=True)
    log_path = logs / f"{name}-{as_of.strftime('%Y%m%dT%H%M%S')}-{row}.log"
    command = evaluate_command(forecasts, actuals, model, tracking_uri, list(arguments))
    log.info("schedule %r: evaluate as of %s (output in %s)", name, as_of.isoformat(), log_path)
    returncode = run_recorded(history, row, name, command, cwd, log_path)
    if returncode is None:
        return history.get(row)
    if returncode not in (ExitStatus.OK, ExitStatus.DRIFT_ALARM):
        reason = error_line(log_path, returncode, "evaluate")
        status = "interrupted" if returncode == ExitStatus.INTERRUPTED else "failed"
        history.finish(row, status, error=reason)
        log.error("schedule %r failed: %s", name, reason)
        return history.get(row)
    verdicts, run_id = _printed(log_path)
    if returncode == ExitStatus.DRIFT_ALARM:
        alarms = [line for line in verdicts if line.startswith(VERDICTS[0])]
        summary = "; ".join(alarms) or f"drift alarm; see {log_path}"
        history.finish(row, DRIFT, output=summary, mlflow_run_id=run_id)
        log.warning("schedule %r: %s", name, summary)
    else:
        summary = "; ".join(verdicts) or f"nothing judged; see {log_path}"
        history.finish(row, "ok", output=summary, mlflow_run_id=run_id)
        log.info("schedule %r: %s", name, summary)
    return history.get(row)
