"""The job store: schedules as jobs in APScheduler 3's ``SQLAlchemyJobStore`` (``schedules.sqlite``).

Each schedule is one job whose id is its name, added with ``replace_existing=True`` (adding
a name again replaces it), ``coalesce=True``, ``max_instances=1`` and a misfire grace time
(default 300 s; APScheduler's own default of 1 s would skip a run that starts a little
late). The job function is referenced by its import path (:data:`JOB_FUNCTION`) with plain
keyword arguments, so jobs survive restarts and upgrades.

A retrain schedule (``forecast schedule add NAME --retrain PIPELINE``) is a job of the same
store with the same history and missed-slot rules, whose function is :data:`RETRAIN_FUNCTION`
(``forecast retrain`` in a child process, :mod:`~forecasting.serving.schedule.retrain`) and
whose executor is :data:`RETRAIN_EXECUTOR`, so it never holds up a prediction. An evaluate
schedule (``forecast schedule add NAME --evaluate --forecasts GLOB --actuals PATH``) is the
same, with :data:`EVALUATE_FUNCTION` (``forecast evaluate`` in a child process,
:mod:`~forecasting.serving.schedule.evaluation`) in the same executor.

``forecast schedule add/list/remove`` edit the store through :func:`store_editor`, a
scheduler that never runs or reschedules a job, so they are safe beside a running
``forecast scheduler`` (which re-reads the store every few seconds).
"""

from __future__ import annotations

import contextlib
import logging
import pickle
import re
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from forecasting.errors import InputError
from forecasting.serving.schedule.cron import parse_cron
from forecasting.serving.schedule.history import Outcome, RunHistory
from forecasting.serving.schedule.state import JOBS_DB, state_dir
from forecasting.serving.schedule.templates import check_template

log = logging.getLogger(__name__)

DEFAULT_MISFIRE_GRACE = 300
JOB_DEFAULTS = {"coalesce": True, "max_instances": 1, "misfire_grace_time": DEFAULT_MISFIRE_GRACE}
JOB_FUNCTION = "forecasting.serving.schedule:run_job"
RETRAIN_FUNCTION = "forecasting.serving.schedule:run_retrain_job"
EVALUATE_FUNCTION = "forecasting.serving.schedule:run_evaluate_job"
# The scheduler's background executor, beside the default one: retrains and evaluations, each a
# child process waited for there (the name is stored with every such job, so it stays "retrain").
RETRAIN_EXECUTOR = "retrain"
PREDICT, RETRAIN, EVALUATE = "predict", "retrain", "evaluate"  # the kinds of schedule
KIND_OF_FUNCTION = {RETRAIN_FUNCTION: RETRAIN, EVALUATE_FUNCTION: EVALUATE}
# Where the job function lived in earlier versions; jobs stored with it are pointed at JOB_FUNCTION
# (APScheduler deletes a stored job whose function it cannot import).
LEGACY_JOB_FUNCTIONS = ("forecasting.serving.scheduler:run_job",)
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")


@dataclass
class Schedule:
    name: str
    cron: str
    timezone: str
    model: str
    data: str
    output: str
    misfire_grace_time: int
    tracking_uri: str
    next_run: datetime | None
    last: Outcome | None = None
    missed_since: int = 0  # slots missed after ``last``
    options: dict | None = None  # levels, drop_stale, reading: passed to each run
    # or RETRAIN: ``data`` is then the pipeline; or EVALUATE: ``data`` is the forecasts' glob,
    # ``output`` the actuals, ``model`` the registered model judged ("" for all)
    kind: str = PREDICT


def _upgrade_job_functions(path: Path) -> int:
    """Point jobs stored with a :data:`LEGACY_JOB_FUNCTIONS` path at :data:`JOB_FUNCTION`."""
    if not path.exists():
        return 0
    with contextlib.closing(sqlite3.connect(path, timeout=30)) as db, db:
        try:
            rows = db.execute("SELECT id, job_state FROM apscheduler_jobs").fetchall()
        except sqlite3.OperationalError:  # no job was ever stored
            return 0
        upgraded = []
        for job_id, blob in rows:
            state = pickle.loads(blob)  # our own state file, pickled by APScheduler
            if state.get("func") in LEGACY_JOB_FUNCTIONS:
                state["func"] = JOB_FUNCTION
                upgraded.append((pickle.dumps(state, pickle.HIGHEST_PROTOCOL), job_id))
        db.executemany("UPDATE apscheduler_jobs SET job_state = ? WHERE id = ?", upgraded)
    for _, job_id in upgraded:
        log.info("schedule %r: job function moved to %s", job_id, JOB_FUNCTION)
    return len(upgraded)


def job_store(folder: Path):
    """The ``SQLAlchemyJobStore`` of the state folder, its jobs upgraded to :data:`JOB_FUNCTION`."""
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore

    _upgrade_job_functions(folder / JOBS_DB)
    return SQLAlchemyJobStore(url=f"sqlite:///{folder / JOBS_DB}")


@contextlib.contextmanager
def store_editor(folder: Path):
    """A scheduler that reads and writes the job store but never runs or reschedules a job.

    APScheduler 3's ``BaseScheduler`` leaves job processing to its subclasses: each concrete
    scheduler runs due jobs from a loop of its own that ``wakeup()`` triggers. This one
    implements only the two abstract public methods, ``wakeup`` (doing nothing) and
    ``shutdown``, so there is no loop and no due job is ever run or moved. A paused
    ``BackgroundScheduler`` is not enough: when it shuts down, its loop wakes once more and
    processes due jobs, moving their next run time in the shared store (and a running
    ``forecast scheduler`` would then skip them).
    """
    from apscheduler.schedulers.base import BaseScheduler

    class _Editor(BaseScheduler):
        def wakeup(self) -> None:
            pass

        def shutdown(self, wait: bool = True) -> None:  # abstract in BaseScheduler
            super().shutdown(wait)

    folder.mkdir(parents=True, exist_ok=True)
    quiet = logging.getLogger(f"{__name__}.editor")  # no "Scheduler started" lines for a list
    quiet.setLevel(logging.WARNING)
    editor = _Editor(
        jobstores={"default": job_store(folder)},
        timezone=UTC,
        logger=quiet,
        job_defaults=JOB_DEFAULTS,
    )
    editor.start(paused=True)
    try:
        yield editor
    finally:
        editor.shutdown(wait=False)


def _schedule_of(job, history: RunHistory) -> Schedule:
    kw = job.kwargs
    kind = KIND_OF_FUNCTION.get(job.func_ref, PREDICT)
    data = {RETRAIN: "pipeline", EVALUATE: "forecasts"}.get(kind, "data")
    return Schedule(
        name=job.id,
        cron=kw["cron"],
        timezone=kw["timezone"],
        model=kw.get("model", ""),
        data=kw[data],
        output=kw["actuals"] if kind == EVALUATE else kw.get("output", ""),
        misfire_grace_time=kw["misfire_grace_time"],
        tracking_uri=kw["tracking_uri"],
        next_run=job.next_run_time,
        last=(last := history.last(job.id)),
        missed_since=history.missed_since(last) if last is not None else 0,
        options=kw.get("options"),
        kind=kind,
    )


def _checked(name: str, cron: str, timezone: str | None, misfire_grace_time):
    """The trigger of a schedule, after the checks every kind shares.

    Raises:
        InputError: a bad name, cron expression, time zone or grace time.
    """
    if not NAME_PATTERN.match(name or ""):
        raise InputError(
            f"schedule name {name!r}: use letters, digits, '.', '_' or '-' (at most 100)"
        )
    trigger = parse_cron(cron, timezone or "UTC")
    if misfire_grace_time is None or int(misfire_grace_time) <= 0:
        raise InputError(
            f"--misfire-grace-time must be a positive number of seconds, received: {misfire_grace_time}"
        )
    return trigger


def _store(
    folder: Path, name: str, trigger, kwargs: dict, grace: int, **job
) -> tuple[Schedule, bool]:
    """Add (or replace) job ``name`` with the shared job settings; returns it and whether it
    replaced one."""
    with store_editor(folder) as scheduler:
        replaced = scheduler.get_job(name) is not None
        scheduler.add_job(
            trigger=trigger,
            id=name,
            name=name,
            kwargs=kwargs,
            replace_existing=True,
            coalesce=True,
            max_instances=1,
            misfire_grace_time=int(grace),
            **job,
        )
        schedule = _schedule_of(scheduler.get_job(name), RunHistory(folder))
    return schedule, replaced


def add_schedule(
    name: str,
    cron: str,
    model: str,
    data: str | Path,
    output: str,
    timezone: str | None = None,
    misfire_grace_time: int = DEFAULT_MISFIRE_GRACE,
    tracking_uri: str | None = None,
    folder: str | Path | None = None,
    levels: str | None = None,
    drop_stale: bool = False,
    reading: dict | None = None,
) -> tuple[Schedule, bool]:
    """Add (or replace) schedule ``name``; returns it and whether it replaced one.

    ``levels``, ``drop_stale`` and ``reading`` are what each run passes to
    :func:`forecasting.serving.batch.attempt_batch` (``None``/empty: its defaults).

    Raises:
        InputError: a bad name, cron expression, time zone, output template or grace time, or a
            model URI the store does not have; nothing is changed then.
    """
    from forecasting.tracking.model_ref import resolve_model
    from forecasting.tracking.store import resolve_uri

    trigger = _checked(name, cron, timezone, misfire_grace_time)
    timezone = timezone or "UTC"
    check_template(output)
    options: dict = {}
    if levels is not None:
        from forecasting.config import parse_levels

        options["levels"] = list(parse_levels(levels))
    if drop_stale:
        options["drop_stale"] = True
    if reading := {k: v for k, v in (reading or {}).items() if v is not None}:
        options["reading"] = reading
    tracking_uri = resolve_uri(tracking_uri)
    ref = resolve_model(model, tracking_uri)
    data_path = Path(data).expanduser().resolve()
    if not data_path.exists():
        log.warning("%s does not exist yet; each run reads it when it starts", data_path)
    output_template = output if Path(output).is_absolute() else str(Path.cwd() / output)
    folder = state_dir(folder)
    kwargs = {
        "name": name,
        "cron": cron,
        "timezone": timezone,
        "model": model,
        "data": str(data_path),
        "output": output_template,
        "misfire_grace_time": int(misfire_grace_time),
        "tracking_uri": tracking_uri,
        "state_dir": str(folder),
    }
    if options:  # schedules stored without the key still load: run_job defaults it
        kwargs["options"] = options
    schedule, replaced = _store(
        folder, name, trigger, kwargs, misfire_grace_time, func=JOB_FUNCTION
    )
    log.debug(
        "%s schedule %r: %s (%s) with %s",
        "replaced" if replaced else "added",
        name,
        cron,
        timezone,
        ref.label,
    )
    return schedule, replaced


def add_retrain_schedule(
    name: str,
    cron: str,
    pipeline: str | Path,
    timezone: str | None = None,
    misfire_grace_time: int = DEFAULT_MISFIRE_GRACE,
    tracking_uri: str | None = None,
    folder: str | Path | None = None,
) -> tuple[Schedule, bool]:
    """Add (or replace) schedule ``name``: at each slot, ``forecast retrain PIPELINE`` (the whole
    comparison on the current data, warm-started as the pipeline's ``training.warm_start``
    says) in a child process; returns it and whether it replaced one.

    The pipeline is read now, so a bad file is refused now; each run reads it again. The store
    is ``tracking_uri``, else the pipeline's ``mlflow.tracking_uri``, else the default one.

    Raises:
        InputError: a bad name, cron expression, time zone, grace time or pipeline file; nothing
            is changed then.
    """
    from forecasting.config import load_config
    from forecasting.tracking.store import resolve_uri

    trigger = _checked(name, cron, timezone, misfire_grace_time)
    pipeline_path = Path(pipeline).expanduser().resolve()
    cfg = load_config(pipeline_path)
    tracking_uri = resolve_uri(tracking_uri or cfg.mlflow.tracking_uri)
    folder = state_dir(folder)
    kwargs = {
        "name": name,
        "cron": cron,
        "timezone": timezone or "UTC",
        "pipeline": str(pipeline_path),
        "misfire_grace_time": int(misfire_grace_time),
        "tracking_uri": tracking_uri,
        "state_dir": str(folder),
        "cwd": str(Path.cwd()),
    }
    schedule, replaced = _store(
        folder,
        name,
        trigger,
        kwargs,
        misfire_grace_time,
        func=RETRAIN_FUNCTION,
        executor=RETRAIN_EXECUTOR,
    )
    log.debug("%s retrain schedule %r: %s", "replaced" if replaced else "added", name, cron)
    return schedule, replaced


def add_evaluate_schedule(
    name: str,
    cron: str,
    forecasts: str,
    actuals: str | Path,
    tracking_uri: str,
    arguments: list[str] | None = None,
    model: str | None = None,
    timezone: str | None = None,
    misfire_grace_time: int = DEFAULT_MISFIRE_GRACE,
    folder: str | Path | None = None,
) -> tuple[Schedule, bool]:
    """Add (or replace) schedule ``name``: at each slot, ``forecast evaluate --forecasts GLOB
    --actuals PATH`` with ``arguments`` (its other flags: ``--model``, ``--config``, ``--set``,
    the thresholds, how the actuals are read) in a child process; returns it and whether it
    replaced one.

    The caller checks ``arguments`` (the command line does, as ``forecast evaluate`` would);
    relative paths are made absolute here, and the child runs where the schedule was added.

    Raises:
        InputError: a bad name, cron expression, time zone or grace time; nothing is changed then.
    """
    from forecasting.tracking.store import resolve_uri

    trigger = _checked(name, cron, timezone, misfire_grace_time)
    if not forecasts or not str(actuals):
        raise InputError("--forecasts and --actuals are required for an evaluate schedule")
    actuals_path = Path(actuals).expanduser().resolve()
    if not actuals_path.exists():
        log.warning("%s does not exist yet; each run reads it when it starts", actuals_path)
    folder = state_dir(folder)
    kwargs = {
        "name": name,
        "cron": cron,
        "timezone": timezone or "UTC",
        "forecasts": str(Path.cwd() / Path(forecasts).expanduser()),
        "actuals": str(actuals_path),
        "arguments": list(arguments or []),
        "model": model or "",
        "misfire_grace_time": int(misfire_grace_time),
        "tracking_uri": resolve_uri(tracking_uri),
        "state_dir": str(folder),
        "cwd": str(Path.cwd()),
    }
    schedule, replaced = _store(
        folder,
        name,
        trigger,
        kwargs,
        misfire_grace_time,
        func=EVALUATE_FUNCTION,
        executor=RETRAIN_EXECUTOR,
    )
    log.debug("%s evaluate schedule %r: %s", "replaced" if replaced else "added", name, cron)
    return schedule, replaced


def list_schedules(folder: str | Path | None = None) -> list[Schedule]:
    folder = state_dir(folder)
    if not (folder / JOBS_DB).exists():
        return []
    history = RunHistory(folder)
    with store_editor(folder) as scheduler:
        return sorted(
            (_schedule_of(job, history) for job in scheduler.get_jobs()), key=lambda s: s.name
        )


def _unknown(name: str, folder: Path, names: list[str]) -> InputError:
    known = ", ".join(names) or "none"
    return InputError(f"no schedule named {name!r} in {folder} (schedules: {known})")


def get_schedule(name: str, folder: str | Path | None = None) -> Schedule:
    folder = state_dir(folder)
    schedules = list_schedules(folder)
    for s in schedules:
        if s.name == name:
            return s
    raise _unknown(name, folder, [s.name for s in schedules])


def remove_schedule(name: str, folder: str | Path | None = None) -> None:
    from apscheduler.jobstores.base import JobLookupError

    folder = state_dir(folder)
    if not (folder / JOBS_DB).exists():
        raise _unknown(name, folder, [])
    with store_editor(folder) as scheduler:
        try:
            scheduler.remove_job(name)
        except JobLookupError:
            raise _unknown(name, folder, sorted(j.id for j in scheduler.get_jobs())) from None
    log.debug("removed schedule %r", name)
