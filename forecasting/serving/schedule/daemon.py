"""The ``forecast scheduler`` process: runs due schedules until SIGTERM/SIGINT.

APScheduler 3's ``BackgroundScheduler`` does the timing, through its public API only: the
job store (:func:`~forecasting.serving.schedule.store.job_store`), one thread-pool executor
for predictions (runs are queued, never parallel) and one for retrains and evaluations (each
waits for its ``forecast retrain``/``forecast evaluate`` child process there, so neither ever
delays a prediction), the job defaults ``coalesce``, ``max_instances=1`` and
the misfire grace time, and an event listener that records missed runs in the history (as do the slots coalesced
away while no scheduler ran: :class:`Coalesced`).
The process holds the state folder's lock, logs to ``scheduler.log`` as well, and re-reads
the job store every ``poll_seconds`` so schedules changed by other processes take effect.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

from forecasting.errors import first_line
from forecasting.exit_status import ExitStatus
from forecasting.serving.schedule.history import RunHistory
from forecasting.serving.schedule.lock import exclusive
from forecasting.serving.schedule.state import LOG_FILE, state_dir
from forecasting.serving.schedule.store import (
    JOB_DEFAULTS,
    RETRAIN_EXECUTOR,
    job_store,
    store_editor,
)

log = logging.getLogger(__name__)

DEFAULT_POLL_SECONDS = 10.0


def _new_scheduler(folder: Path, max_workers: int = 1):
    from apscheduler.executors.pool import ThreadPoolExecutor
    from apscheduler.schedulers.background import BackgroundScheduler

    return BackgroundScheduler(
        jobstores={"default": job_store(folder)},
        executors={
            "default": ThreadPoolExecutor(max_workers),  # predictions
            RETRAIN_EXECUTOR: ThreadPoolExecutor(1),  # retrains, evaluations: one at a time
        },
        job_defaults=JOB_DEFAULTS,
        timezone=UTC,
    )


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
            os._exit(ExitStatus.INTERRUPTED)  # asked twice: do not wait for running jobs
        stop.signal = signum

    previous = {s: signal.signal(s, _handle) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


# Per schedule and start: a year-old every-minute schedule stays readable.
MAX_MISSED_RECORDED = 1000
COALESCED = "coalesced: the scheduler was not running"


class Coalesced:
    """Every slot that passed while no scheduler ran, but the one APScheduler runs, as ``missed``.

    With ``coalesce=True`` APScheduler runs only the latest of the slots it finds due (or
    reports that one missed, past its grace time); the earlier ones would vanish without a
    trace. The first slot of each overdue schedule is read from the store before the scheduler
    starts; the first submission of that schedule names the slot it kept, and every slot of
    its trigger in between is recorded.
    """

    def __init__(self, folder: Path, history: RunHistory, now: datetime | None = None):
        self.history = history
        now = now or datetime.now(UTC)
        with store_editor(folder) as editor:
            self.pending = {
                job.id: (job.next_run_time, job.trigger)
                for job in editor.get_jobs()
                if job.next_run_time is not None and job.next_run_time <= now
            }

    def submitted(self, job_id: str, kept: datetime) -> None:
        first, trigger = self.pending.pop(job_id, (None, None))
        slots, slot = [], first
        while slot is not None and slot < kept and len(slots) < MAX_MISSED_RECORDED:
            slots.append(slot)
            slot = trigger.get_next_fire_time(slot, kept)
        for slot in slots:
            self.history.record(job_id, "missed", slot, COALESCED)
        if slots:
            log.warning(
                "schedule %r: %d run(s) from %s missed while no scheduler ran%s",
                job_id,
                len(slots),
                slots[0],
                f" (the first {MAX_MISSED_RECORDED} recorded)"
                if len(slots) == MAX_MISSED_RECORDED
                else "",
            )


SKIPPED = "skipped: the previous run was still going"


def _listener(history: RunHistory, coalesced: Coalesced):
    from apscheduler.events import (
        EVENT_JOB_ERROR,
        EVENT_JOB_MAX_INSTANCES,
        EVENT_JOB_MISSED,
        EVENT_JOB_SUBMITTED,
    )

    def on_event(event) -> None:
        if event.code in (EVENT_JOB_SUBMITTED, EVENT_JOB_MAX_INSTANCES):
            coalesced.submitted(event.job_id, min(event.scheduled_run_times))
        if event.code == EVENT_JOB_MISSED:
            log.warning(
                "schedule %r: run due at %s missed (later than its misfire grace time)",
                event.job_id,
                event.scheduled_run_time,
            )
            history.record(
                event.job_id,
                "missed",
                event.scheduled_run_time,
                "started later than the grace time",
            )
        elif event.code == EVENT_JOB_MAX_INSTANCES:
            log.warning("schedule %r: previous run still going, this run is skipped", event.job_id)
            for slot in event.scheduled_run_times:
                history.record(event.job_id, "missed", slot, SKIPPED)
        elif event.code == EVENT_JOB_ERROR:
            log.error(
                "schedule %r: job raised %s",
                event.job_id,
                first_line(event.exception, with_type=True),
            )

    mask = EVENT_JOB_SUBMITTED | EVENT_JOB_MISSED | EVENT_JOB_ERROR | EVENT_JOB_MAX_INSTANCES
    return on_event, mask


def serve(
    folder: str | Path | None = None,
    poll_seconds: float = DEFAULT_POLL_SECONDS,
    max_workers: int = 1,
    stop: threading.Event | None = None,
) -> int:
    """Run due schedules until SIGTERM/SIGINT (or ``stop`` is set); returns ``ExitStatus.OK`` after a clean stop.

    Every ``poll_seconds`` the job store is read again, so schedules added, replaced or
    removed by ``forecast schedule`` in another process take effect without a restart.
    Predictions run in ``max_workers`` threads (one by default: runs are queued, never
    parallel); retrains and evaluations in a thread of their own, each in a child process.
    On stop, running jobs finish first; a second signal ends the process at once with
    ``ExitStatus.INTERRUPTED``.

    Raises:
        SchedulerBusy: another scheduler holds the state folder's lock.
    """
    folder = state_dir(folder)
    folder.mkdir(parents=True, exist_ok=True)
    stopping = _Stop(stop or threading.Event())
    with exclusive(folder), _log_to_file(folder), _stop_on_signals(stopping):
        history = RunHistory(folder)
        interrupted = history.mark_interrupted()
        if interrupted:
            log.warning("%d run(s) were interrupted by the end of an earlier process", interrupted)
        coalesced = Coalesced(folder, history)
        scheduler = _new_scheduler(folder, max_workers)
        scheduler.add_listener(*_listener(history, coalesced))
        scheduler.start()
        jobs = scheduler.get_jobs()
        log.info(
            "scheduler started on %s (pid %d) with %d schedule(s)%s",
            folder,
            os.getpid(),
            len(jobs),
            "".join(f"\n  {j.id}: next run {j.next_run_time}" for j in jobs),
        )
        try:
            next_poll = time.monotonic() + poll_seconds
            while not stopping:
                time.sleep(0.2)
                if time.monotonic() >= next_poll:
                    scheduler.wakeup()  # pick up schedules changed by other processes
                    next_poll = time.monotonic() + poll_seconds
        finally:
            if stopping.signal is not None:
                log.info(
                    "%s received: finishing running jobs, then stopping",
                    signal.Signals(stopping.signal).name,
                )
            scheduler.shutdown(wait=True)
            log.info("scheduler stopped")
    return ExitStatus.OK
