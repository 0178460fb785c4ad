"""Scheduled batch predictions, retrains and evaluations: cron schedules in a persistent APScheduler 3.x job store.

Everything lives in a state folder (``--state-dir``, else ``$FORECAST_STATE_DIR``, else
``.forecast/`` in the working directory), one concern per module:

- :mod:`~forecasting.serving.schedule.state`: the folder and its file names;
- :mod:`~forecasting.serving.schedule.cron`: crontab lines and time zones as triggers;
- :mod:`~forecasting.serving.schedule.templates`: output paths with ``{as_of:...}`` and ``{name}``;
- :mod:`~forecasting.serving.schedule.history`: ``history.sqlite``, one row per run;
- :mod:`~forecasting.serving.schedule.store`: ``schedules.sqlite``, one APScheduler job per
  schedule (add, list, remove) edited without ever running a job;
- :mod:`~forecasting.serving.schedule.job`: one run, a batch prediction as of its fire time;
- :mod:`~forecasting.serving.schedule.retrain`: one run of a retrain schedule, ``forecast
  retrain`` in a child process;
- :mod:`~forecasting.serving.schedule.evaluation`: one run of an evaluate schedule, ``forecast
  evaluate`` in a child process;
- :mod:`~forecasting.serving.schedule.child`: the ``python -m forecasting`` child process both
  start;
- :mod:`~forecasting.serving.schedule.lock`: ``scheduler.lock``, one scheduler per folder;
- :mod:`~forecasting.serving.schedule.daemon`: the ``forecast scheduler`` process.

``run_job``, ``run_retrain_job`` and ``run_evaluate_job`` are exported here because stored jobs
name them by this package's import path (:data:`~forecasting.serving.schedule.store.JOB_FUNCTION`,
:data:`~forecasting.serving.schedule.store.RETRAIN_FUNCTION`,
:data:`~forecasting.serving.schedule.store.EVALUATE_FUNCTION`), which moving a module inside
the package does not change. Importing the package loads neither APScheduler nor MLflow.
"""

from __future__ import annotations

from forecasting.serving.schedule.daemon import DEFAULT_POLL_SECONDS, serve
from forecasting.serving.schedule.evaluation import run_evaluate_job
from forecasting.serving.schedule.history import Outcome, RunHistory
from forecasting.serving.schedule.job import run_job, run_schedule_now
from forecasting.serving.schedule.lock import SchedulerBusy
from forecasting.serving.schedule.retrain import RetrainReport, run_retrain_job
from forecasting.serving.schedule.state import state_dir
from forecasting.serving.schedule.store import (
    DEFAULT_MISFIRE_GRACE,
    Schedule,
    add_evaluate_schedule,
    add_retrain_schedule,
    add_schedule,
    get_schedule,
    list_schedules,
    remove_schedule,
)

__all__ = [
    "DEFAULT_MISFIRE_GRACE",
    "DEFAULT_POLL_SECONDS",
    "Outcome",
    "RetrainReport",
    "RunHistory",
    "Schedule",
    "SchedulerBusy",
    "add_evaluate_schedule",
    "add_retrain_schedule",
    "add_schedule",
    "get_schedule",
    "list_schedules",
    "remove_schedule",
    "run_evaluate_job",
    "run_job",
    "run_retrain_job",
    "run_schedule_now",
    "serve",
    "state_dir",
]
