"""Scheduled batch predictions: cron schedules in a persistent APScheduler 3.x job store.

Everything lives in a state folder (``--state-dir``, else ``$FORECAST_STATE_DIR``, else
``.forecast/`` in the working directory):

- ``schedules.sqlite``: APScheduler's ``SQLAlchemyJobStore``. Each schedule is one job
  whose id is its name, added with ``replace_existing=True`` (adding a name again
  replaces it), ``coalesce=True``, ``max_instances=1`` and a misfire grace time
  (default 300 s; APScheduler's own default of 1 s would skip a run that starts a
  little late). The job function is :func:`run_job`, referenced by its import path,
  with plain keyword arguments, so jobs survive restarts and upgrades;
- ``history.sqlite``: one row per run (scheduled for, started, finished, status,
  output or error, MLflow run id); ``forecast schedule list`` shows the last one;
- ``scheduler.log``: what the ``forecast scheduler`` process did;
- ``scheduler.lock``: held by the running scheduler, so two cannot run the same jobs.

Cron expressions are standard five-field crontab lines (minute hour day month
weekday, weekday 0 or 7 = Sunday as in crontab(5), which APScheduler 3.x numbers
differently, so numbers are translated to day names) or six fields with seconds
first. They are evaluated in UTC unless a time zone is given.

A run's as-of time is the fire time it was scheduled for (the latest one not after
now), in the schedule's time zone: it names the output (``{as_of:%Y%m%d%H}``), cuts
the history and goes into the lineage, so a late run still writes the file of its slot.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import re
import signal
import sqlite3
import string
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from forecasting.errors import InputError, first_line

log = logging.getLogger(__name__)

STATE_ENV = "FORECAST_STATE_DIR"
DEFAULT_STATE_DIR = ".forecast"
JOBS_DB = "schedules.sqlite"
HISTORY_DB = "history.sqlite"
LOG_FILE = "scheduler.log"
LOCK_FILE = "scheduler.lock"
DEFAULT_MISFIRE_GRACE = 300
DEFAULT_POLL_SECONDS = 10.0
JOB_FUNCTION = "forecasting.serving.scheduler:run_job"
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")
TEMPLATE_FIELDS = ("as_of", "name")

# crontab(5) weekday numbers: 0 and 7 are Sunday. APScheduler 3.x takes 0 as Monday.
_WEEKDAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")


def state_dir(path: str | Path | None = None) -> Path:
    """The state folder: ``path``, else ``$FORECAST_STATE_DIR``, else ``./.forecast``."""
    return Path(path or os.environ.get(STATE_ENV) or DEFAULT_STATE_DIR).expanduser().resolve()


# --- cron, time zones, templates -------------------------------------------------------------


def parse_timezone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        raise InputError(f"--timezone {name!r}: unknown time zone (examples: UTC, Europe/Berlin)") from None


def _weekday_number(text: str, expr: str) -> int:
    text = text.strip().lower()
    if text.isdigit() and 0 <= int(text) <= 7:
        return int(text)
    if text[:3] in _WEEKDAYS and len(text) == 3:
        return _WEEKDAYS.index(text)
    raise InputError(f"--cron {expr!r}: weekday {text!r} is not 0-7 or sun..sat")


def crontab_weekdays(field: str, expr: str = "") -> str:
    """A crontab weekday field as APScheduler day names: ``1-5`` -> ``mon,tue,wed,thu,fri``."""
    if field in ("*", "?"):
        return "*"
    days: set[int] = set()
    for part in field.split(","):
        body, _, step_text = part.partition("/")
        if step_text and not (step_text.isdigit() and int(step_text) > 0):
            raise InputError(f"--cron {expr!r}: weekday step {step_text!r} is not a positive integer")
        step = int(step_text) if step_text else 1
        if body == "*":
            low, high = 0, 6
        elif "-" in body:
            a, b = body.split("-", 1)
            low, high = _weekday_number(a, expr), _weekday_number(b, expr)
            if high == 0:  # "fri-sun" written with sun = 0
                high = 7
        else:
            low = _weekday_number(body, expr)
            high = 6 if step_text else low
        if low > high:
            raise InputError(f"--cron {expr!r}: weekday range {body!r} runs backwards")
        days.update(d % 7 for d in range(low, high + 1, step))
    return ",".join(_WEEKDAYS[d] for d in sorted(days))


def parse_cron(expr: str, timezone: str | None = None):
    """``CronTrigger`` for a 5-field crontab line, or 6 fields with seconds first.

    Raises:
        InputError: wrong number of fields, a value out of range, or a schedule that never fires.
    """
    from apscheduler.triggers.cron import CronTrigger

    tz = parse_timezone(timezone)
    fields = (expr or "").split()
    if len(fields) == 5:
        fields = ["0", *fields]
    if len(fields) != 6:
        raise InputError(
            f"--cron {expr!r}: expected 5 fields (minute hour day month weekday) "
            f"or 6 with seconds first, got {len(fields)}"
        )
    second, minute, hour, day, month, weekday = fields
    try:
        trigger = CronTrigger(second=second, minute=minute, hour=hour, day=day, month=month,
                              day_of_week=crontab_weekdays(weekday, expr), timezone=tz)
    except ValueError as exc:
        raise InputError(f"--cron {expr!r}: {exc}") from None
    if trigger.get_next_fire_time(None, datetime.now(tz)) is None:
        raise InputError(f"--cron {expr!r}: never fires")
    return trigger


def nominal_run_time(trigger, now: datetime, grace_seconds: float) -> datetime:
    """The latest fire time of ``trigger`` not after ``now`` (within the grace window), else now."""
    fire = trigger.get_next_fire_time(None, now - timedelta(seconds=grace_seconds + 1))
    latest = None
    while fire is not None and fire <= now:
        latest = fire
        fire = trigger.get_next_fire_time(fire, fire + timedelta(microseconds=1))
    return latest or now.replace(microsecond=0)


def render_output(template: str, as_of: datetime, name: str) -> Path:
    """The output path of one run: ``{as_of:%Y%m%d%H}`` and ``{name}`` are filled in."""
    try:
        return Path(template.format(as_of=as_of, name=name))
    except (KeyError, IndexError, ValueError, AttributeError) as exc:
        raise InputError(f"--output {template!r}: cannot fill in the template: {exc}") from None


def check_template(template: str) -> None:
    from forecasting.serving.atomic import output_format

    try:
        fields = [f for _, f, _, _ in string.Formatter().parse(template) if f is not None]
    except ValueError as exc:
        raise InputError(f"--output {template!r}: {exc}") from None
    for f in fields:
        if f.split(".")[0].split("[")[0] not in TEMPLATE_FIELDS:
            raise InputError(f"--output {template!r}: unknown field {{{f}}} (use {{as_of:%Y%m%d%H}} or {{name}})")
    output_format(render_output(template, datetime(2024, 1, 31, 23, 59, tzinfo=UTC), "example"))


# --- run history -------------------------------------------------------------------------------


@dataclass
class Outcome:
    name: str
    status: str  # running, ok, failed, missed, interrupted
    scheduled_for: str | None
    started_at: str
    finished_at: str | None = None
    output: str | None = None
    error: str | None = None
    mlflow_run_id: str | None = None

    def describe(self) -> str:
        when = (self.finished_at or self.started_at)[:19].replace("T", " ")
        detail = self.output if self.status == "ok" else self.error
        return f"{when} UTC {self.status}" + (f": {detail}" if detail else "")


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class RunHistory:
    """One SQLite row per run of a schedule (transactions make every write atomic)."""

    COLUMNS = ("name", "status", "scheduled_for", "started_at", "finished_at", "output", "error", "mlflow_run_id")

    def __init__(self, folder: Path):
        self.path = Path(folder) / HISTORY_DB
        with self._connect() as db:
            db.execute(
                "CREATE TABLE IF NOT EXISTS runs (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, "
                "status TEXT NOT NULL, scheduled_for TEXT, started_at TEXT NOT NULL, finished_at TEXT, "
                "output TEXT, error TEXT, mlflow_run_id TEXT, pid INTEGER)"
            )
            db.execute("CREATE INDEX IF NOT EXISTS runs_by_name ON runs (name, id)")

    @contextlib.contextmanager
    def _connect(self):
        self.path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self.path, timeout=30)
        try:
            with db:  # one transaction: committed on success, rolled back on error
                yield db
        finally:
            db.close()

    def start(self, name: str, scheduled_for: datetime | None) -> int:
        with self._connect() as db:
            cur = db.execute(
                "INSERT INTO runs (name, status, scheduled_for, started_at, pid) VALUES (?, 'running', ?, ?, ?)",
                (name, scheduled_for.isoformat() if scheduled_for else None, _now(), os.getpid()),
            )
            return int(cur.lastrowid)

    def finish(self, row: int, status: str, output: str | None = None, error: str | None = None,
               mlflow_run_id: str | None = None) -> None:
        with self._connect() as db:
            db.execute(
                "UPDATE runs SET status = ?, finished_at = ?, output = ?, error = ?, mlflow_run_id = ? WHERE id = ?",
                (status, _now(), output, error, mlflow_run_id, row),
            )

    def record(self, name: str, status: str, scheduled_for: datetime | None, error: str | None = None) -> None:
        """A run that did not start (missed its grace time, or skipped)."""
        row = self.start(name, scheduled_for)
        self.finish(row, status, error=error)

    def get(self, row: int) -> Outcome:
        with self._connect() as db:
            found = db.execute(f"SELECT {', '.join(self.COLUMNS)} FROM runs WHERE id = ?", (row,)).fetchone()
        return Outcome(*found)

    def last(self, name: str) -> Outcome | None:
        with self._connect() as db:
            row = db.execute(
                f"SELECT {', '.join(self.COLUMNS)} FROM runs WHERE name = ? ORDER BY id DESC LIMIT 1", (name,)
            ).fetchone()
        return Outcome(*row) if row else None

    def runs(self, name: str) -> list[Outcome]:
        with self._connect() as db:
            rows = db.execute(f"SELECT {', '.join(self.COLUMNS)} FROM runs WHERE name = ? ORDER BY id", (name,))
            return [Outcome(*r) for r in rows.fetchall()]

    def mark_interrupted(self) -> int:
        """Runs left 'running' by a process that is gone (killed, power cut) become 'interrupted'."""
        with self._connect() as db:
            stale = [(rid, pid) for rid, pid in db.execute("SELECT id, pid FROM runs WHERE status = 'running'")]
            dead = [rid for rid, pid in stale if pid is None or not _pid_alive(pid)]
            db.executemany(
                "UPDATE runs SET status = 'interrupted', finished_at = ?, error = 'process ended during the run' "
                "WHERE id = ?", [(_now(), rid) for rid in dead],
            )
        return len(dead)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


# --- the job store -----------------------------------------------------------------------------


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


def _job_store(folder: Path):
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore

    return SQLAlchemyJobStore(url=f"sqlite:///{folder / JOBS_DB}")


def _new_scheduler(folder: Path, max_workers: int = 1):
    from apscheduler.executors.pool import ThreadPoolExecutor
    from apscheduler.schedulers.background import BackgroundScheduler

    return BackgroundScheduler(
        jobstores={"default": _job_store(folder)},
        executors={"default": ThreadPoolExecutor(max_workers)},
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": DEFAULT_MISFIRE_GRACE},
        timezone=UTC,
    )


@contextlib.contextmanager
def _store_editor(folder: Path):
    """A scheduler that reads and writes the job store but never runs or reschedules a job.

    A paused ``BackgroundScheduler`` is not enough: when it shuts down, its loop wakes
    once more and processes due jobs, moving their next run time in the shared store
    (and a running ``forecast scheduler`` would then skip them).
    """
    from apscheduler.schedulers.base import BaseScheduler

    class _Editor(BaseScheduler):
        def wakeup(self) -> None:
            pass

        def _process_jobs(self):
            return None

        def shutdown(self, wait: bool = True) -> None:  # abstract in BaseScheduler
            super().shutdown(wait)

    folder.mkdir(parents=True, exist_ok=True)
    quiet = logging.getLogger(f"{__name__}.store")  # no "Scheduler started" lines for a list
    quiet.setLevel(logging.WARNING)
    editor = _Editor(jobstores={"default": _job_store(folder)}, timezone=UTC, logger=quiet,
                     job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": DEFAULT_MISFIRE_GRACE})
    editor.start(paused=True)
    try:
        yield editor
    finally:
        editor.shutdown(wait=False)


def _schedule_of(job, history: RunHistory) -> Schedule:
    kw = job.kwargs
    return Schedule(
        name=job.id, cron=kw["cron"], timezone=kw["timezone"], model=kw["model"], data=kw["data"],
        output=kw["output"], misfire_grace_time=kw["misfire_grace_time"], tracking_uri=kw["tracking_uri"],
        next_run=job.next_run_time, last=history.last(job.id),
    )


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
) -> tuple[Schedule, bool]:
    """Add (or replace) schedule ``name``; returns it and whether it replaced one.

    Raises:
        InputError: a bad name, cron expression, time zone, output template or grace time, or a
            model URI the store does not have; nothing is changed then.
    """
    from forecasting.serving.model_ref import resolve_model
    from forecasting.tracking.store import resolve_uri

    if not NAME_PATTERN.match(name or ""):
        raise InputError(f"schedule name {name!r}: use letters, digits, '.', '_' or '-' (at most 100)")
    timezone = timezone or "UTC"
    trigger = parse_cron(cron, timezone)
    if misfire_grace_time is None or int(misfire_grace_time) <= 0:
        raise InputError(f"--misfire-grace-time must be a positive number of seconds, received: {misfire_grace_time}")
    check_template(output)
    tracking_uri = resolve_uri(tracking_uri)
    ref = resolve_model(model, tracking_uri)
    data_path = Path(data).expanduser().resolve()
    if not data_path.exists():
        log.warning("%s does not exist yet; each run reads it when it starts", data_path)
    output_template = output if Path(output).is_absolute() else str(Path.cwd() / output)
    folder = state_dir(folder)
    kwargs = {
        "name": name, "cron": cron, "timezone": timezone, "model": model, "data": str(data_path),
        "output": output_template, "misfire_grace_time": int(misfire_grace_time),
        "tracking_uri": tracking_uri, "state_dir": str(folder),
    }
    with _store_editor(folder) as scheduler:
        replaced = scheduler.get_job(name) is not None
        scheduler.add_job(
            JOB_FUNCTION, trigger=trigger, id=name, name=name, kwargs=kwargs, replace_existing=True,
            coalesce=True, max_instances=1, misfire_grace_time=int(misfire_grace_time),
        )
        job = scheduler.get_job(name)
        schedule = _schedule_of(job, RunHistory(folder))
    log.debug("%s schedule %r: %s (%s) with %s", "replaced" if replaced else "added", name, cron, timezone, ref.label)
    return schedule, replaced


def list_schedules(folder: str | Path | None = None) -> list[Schedule]:
    folder = state_dir(folder)
    if not (folder / JOBS_DB).exists():
        return []
    history = RunHistory(folder)
    with _store_editor(folder) as scheduler:
        return sorted((_schedule_of(job, history) for job in scheduler.get_jobs()), key=lambda s: s.name)


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
    with _store_editor(folder) as scheduler:
        try:
            scheduler.remove_job(name)
        except JobLookupError:
            raise _unknown(name, folder, sorted(j.id for j in scheduler.get_jobs())) from None
    log.debug("removed schedule %r", name)


def run_schedule_now(name: str, folder: str | Path | None = None) -> Outcome:
    """Run schedule ``name`` once, now, in this process (as of now, in its time zone)."""
    schedule = get_schedule(name, folder)
    as_of = datetime.now(parse_timezone(schedule.timezone)).replace(microsecond=0)
    return run_job(
        name=schedule.name, cron=schedule.cron, timezone=schedule.timezone, model=schedule.model,
        data=schedule.data, output=schedule.output, misfire_grace_time=schedule.misfire_grace_time,
        tracking_uri=schedule.tracking_uri, state_dir=str(state_dir(folder)), as_of=as_of,
    )


# --- the job -----------------------------------------------------------------------------------


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
) -> Outcome:
    """One run of a schedule: a batch prediction as of its fire time. Never raises for a failure.

    APScheduler calls this by its import path with the schedule's plain keyword arguments.
    The outcome goes to the state folder's run history; a failure is logged (one line for
    bad input, with the traceback otherwise) and its MLflow run ends FAILED.
    """
    from forecasting.serving.batch import predict_batch

    history = RunHistory(Path(state_dir))
    if as_of is None:
        tz = parse_timezone(timezone)
        as_of = nominal_run_time(parse_cron(cron, timezone), datetime.now(tz), misfire_grace_time)
    row = history.start(name, as_of)
    log.info("schedule %r: run as of %s", name, as_of.isoformat())
    try:
        target = render_output(output, as_of, name)
        result = predict_batch(model, data, target, as_of=as_of, tracking_uri=tracking_uri,
                               tags={"schedule": name, "scheduled_for": as_of.isoformat()})
    except Exception as exc:
        reason = first_line(exc, with_type=not isinstance(exc, InputError))
        run_id = getattr(exc, "batch_run_id", None)
        history.finish(row, "failed", error=reason, mlflow_run_id=run_id)
        if isinstance(exc, InputError):
            log.error("schedule %r failed: %s", name, reason)
        else:
            log.exception("schedule %r failed", name)
        return history.get(row)
    except BaseException as exc:  # interrupted: record it, then let the interruption through
        history.finish(row, "interrupted", error=first_line(exc, with_type=True))
        raise
    history.finish(row, "ok", output=str(result.output), mlflow_run_id=result.run_id)
    log.info("schedule %r: wrote %d rows to %s", name, result.rows, result.output)
    return history.get(row)


# --- the scheduler process ---------------------------------------------------------------------


class SchedulerBusy(InputError):
    """Another scheduler process holds the state folder."""


@contextlib.contextmanager
def _exclusive(folder: Path):
    lock_path = folder / LOCK_FILE
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
            raise SchedulerBusy(f"{folder}: another forecast scheduler is running (pid {holder})") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield
    finally:
        os.close(fd)  # releases the lock


@contextlib.contextmanager
def _log_to_file(folder: Path):
    handler = logging.FileHandler(folder / LOG_FILE)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.setLevel(logging.INFO)
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield
    finally:
        root.removeHandler(handler)
        handler.close()


class _Stop:
    """Set by SIGTERM/SIGINT; the handler only flips a flag (no locks, no logging)."""

    def __init__(self, event: threading.Event):
        self.event = event
        self.signal: int | None = None

    def __bool__(self) -> bool:
        return self.signal is not None or self.event.is_set()


@contextlib.contextmanager
def _stop_on_signals(stop: _Stop):
    """SIGTERM/SIGINT ask for a clean stop; a second one ends the process at once."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def _handle(signum, frame):
        if stop.signal is not None:
            os._exit(128 + signum)  # asked twice: do not wait for running jobs
        stop.signal = signum

    previous = {s: signal.signal(s, _handle) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


def _listener(history: RunHistory):
    from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_MAX_INSTANCES, EVENT_JOB_MISSED

    def on_event(event) -> None:
        if event.code == EVENT_JOB_MISSED:
            log.warning("schedule %r: run due at %s missed (later than its misfire grace time)",
                        event.job_id, event.scheduled_run_time)
            history.record(event.job_id, "missed", event.scheduled_run_time, "started later than the grace time")
        elif event.code == EVENT_JOB_MAX_INSTANCES:
            log.warning("schedule %r: previous run still going, this run is skipped", event.job_id)
        elif event.code == EVENT_JOB_ERROR:
            log.error("schedule %r: job raised %s", event.job_id, first_line(event.exception, with_type=True))

    return on_event, EVENT_JOB_MISSED | EVENT_JOB_ERROR | EVENT_JOB_MAX_INSTANCES


def serve(
    folder: str | Path | None = None,
    poll_seconds: float = DEFAULT_POLL_SECONDS,
    max_workers: int = 1,
    stop: threading.Event | None = None,
) -> int:
    """Run due schedules until SIGTERM/SIGINT (or ``stop`` is set); returns 0 after a clean stop.

    Every ``poll_seconds`` the job store is read again, so schedules added, replaced or
    removed by ``forecast schedule`` in another process take effect without a restart.
    Jobs run in ``max_workers`` threads (one by default: runs are queued, never parallel).
    On stop, running jobs finish first.
    """
    folder = state_dir(folder)
    folder.mkdir(parents=True, exist_ok=True)
    stopping = _Stop(stop or threading.Event())
    with _exclusive(folder), _log_to_file(folder), _stop_on_signals(stopping):
        history = RunHistory(folder)
        interrupted = history.mark_interrupted()
        if interrupted:
            log.warning("%d run(s) were interrupted by the end of an earlier process", interrupted)
        scheduler = _new_scheduler(folder, max_workers)
        scheduler.add_listener(*_listener(history))
        scheduler.start()
        jobs = scheduler.get_jobs()
        log.info("scheduler started on %s (pid %d) with %d schedule(s)%s", folder, os.getpid(), len(jobs),
                 "".join(f"\n  {j.id}: next run {j.next_run_time}" for j in jobs))
        try:
            next_poll = time.monotonic() + poll_seconds
            while not stopping:
                time.sleep(0.2)
                if time.monotonic() >= next_poll:
                    scheduler.wakeup()  # pick up schedules changed by other processes
                    next_poll = time.monotonic() + poll_seconds
        finally:
            if stopping.signal is not None:
                log.info("%s received: finishing running jobs, then stopping", signal.Signals(stopping.signal).name)
            scheduler.shutdown(wait=True)
            log.info("scheduler stopped")
    return 0
