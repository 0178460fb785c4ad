"""The job: one run of a schedule, a batch prediction as of the fire time it was scheduled for.

A run's as-of time is the fire time it was scheduled for (the latest one not after now),
in the schedule's time zone: it names the output (``{as_of:%Y%m%d%H}``), cuts the history
and goes into the lineage, so a late run still writes the file of its slot.
"""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path

from forecasting.errors import InputError, first_line
from forecasting.serving.schedule.cron import nominal_run_time, parse_cron, parse_timezone
from forecasting.serving.schedule.history import Outcome, RunHistory
from forecasting.serving.schedule.state import state_dir
from forecasting.serving.schedule.store import EVALUATE, RETRAIN, get_schedule
from forecasting.serving.schedule.templates import render_output

log = logging.getLogger(__name__)


def run_job(
    name: str,
    cron: str,
    timezone: str,
    model: str,
    data: str,
    output: str,
    misfire_grace_time: int,
    tracking_uri: str,
    state_dir: str,
    as_of: datetime | None = None,
    options: dict | None = None,
) -> Outcome:
    """One run of a schedule: a batch prediction as of its fire time. Never raises for a failure.

    APScheduler calls this by its import path with the schedule's plain keyword arguments.
    The outcome goes to the state folder's run history; a failure is logged (one line for
    bad input, with the traceback otherwise) and its MLflow run ends FAILED.
    """
    from forecasting.serving.batch import attempt_batch

    history = RunHistory(Path(state_dir))
    if as_of is None:
        tz = parse_timezone(timezone)
        as_of = nominal_run_time(parse_cron(cron, timezone), datetime.now(tz), misfire_grace_time)
    row = history.start(name, as_of)
    log.info("schedule %r: run as of %s", name, as_of.isoformat())
    attempt = None
    try:
        target = render_output(output, as_of, name)
        attempt = attempt_batch(
            model,
            data,
            target,
            as_of=as_of,
            tracking_uri=tracking_uri,
            tags={"schedule": name, "scheduled_for": as_of.isoformat()},
            **(options or {}),  # levels, drop_stale, reading, as given to schedule add
        )
        error = attempt.error
    except Exception as exc:  # the template could not be filled in: no batch run was started
        error = exc
    except BaseException as exc:  # interrupted: record it, then let the interruption through
        history.finish(row, "interrupted", error=first_line(exc))
        raise
    if error is not None:
        bad_input = isinstance(error, InputError) and str(error).strip()
        reason = first_line(error, with_type=not bad_input)
        history.finish(
            row, "failed", error=reason, mlflow_run_id=attempt.run_id if attempt else None
        )
        if bad_input:
            log.error("schedule %r failed: %s", name, reason)
        else:
            log.error("schedule %r failed", name, exc_info=error)
        return history.get(row)
    result = attempt.result
    history.finish(row, "ok", output=str(result.output), mlflow_run_id=result.run_id)
    log.info("schedule %r: wrote %d rows to %s", name, result.rows, result.output)
    return history.get(row)


def _stored_kwargs(name: str, folder: str | Path | None) -> dict:
    """The keyword arguments schedule ``name`` passes its job function."""
    from forecasting.serving.schedule.store import store_editor

    with store_editor(state_dir(folder)) as editor:
        return dict(editor.get_job(name).kwargs)


def run_schedule_now(name: str, folder: str | Path | None = None) -> Outcome:
    """Run schedule ``name`` once, now, in this process (as of now, in its time zone); a retrain
    or evaluate schedule runs its ``forecast retrain``/``forecast evaluate`` child as the
    scheduler would."""
    schedule = get_schedule(name, folder)
    as_of = datetime.now(parse_timezone(schedule.timezone)).replace(microsecond=0)
    if schedule.kind == RETRAIN:
        from forecasting.serving.schedule.retrain import run_retrain_job

        job = _stored_kwargs(name, folder)
        return run_retrain_job(**job, as_of=as_of)
    if schedule.kind == EVALUATE:
        from forecasting.serving.schedule.evaluation import run_evaluate_job

        return run_evaluate_job(**_stored_kwargs(name, folder), as_of=as_of)
    return run_job(
        name=schedule.name,
        cron=schedule.cron,
        timezone=schedule.timezone,
        model=schedule.model,
        data=schedule.data,
        output=schedule.output,
        misfire_grace_time=schedule.misfire_grace_time,
        tracking_uri=schedule.tracking_uri,
        state_dir=str(state_dir(folder)),
        as_of=as_of,
        options=schedule.options,
    )
