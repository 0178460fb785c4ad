"""MLflow runs that never stay RUNNING: a failure ends the run FAILED with its reason."""

from __future__ import annotations

import contextlib
import logging
import signal

import mlflow

from forecasting.tracking.owner import ownership_tags

log = logging.getLogger(__name__)

REASON_TAG = "failure_reason"


@contextlib.contextmanager
def tracked_run(**kwargs):
    """``mlflow.start_run`` that records why a run failed (tag ``failure_reason``).

    The run also names its process (``owner.ownership_tags``: pid, host, start time), so a run
    left RUNNING by a process killed with SIGKILL can be ended KILLED by the next command.
    """
    kwargs["tags"] = ownership_tags() | (kwargs.get("tags") or {})
    run = mlflow.start_run(**kwargs)
    try:
        yield run
    except BaseException as exc:
        reason = f"{type(exc).__name__}: {exc}".strip()[:4000]
        with contextlib.suppress(Exception):
            mlflow.set_tag(REASON_TAG, reason)
        mlflow.end_run(status="FAILED")
        raise
    else:
        mlflow.end_run(status="FINISHED")


@contextlib.contextmanager
def sigterm_as_interrupt():
    """Turn SIGTERM into KeyboardInterrupt so open runs end FAILED instead of RUNNING."""

    def _raise(signum, frame):
        raise KeyboardInterrupt(f"terminated by signal {signum}")

    try:
        previous = signal.signal(signal.SIGTERM, _raise)
    except ValueError:  # not in the main thread
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def flatten(prefix: str, value) -> dict[str, str]:
    """Nested config -> ``{"a.b": "value"}`` for ``mlflow.log_params``."""
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            out |= flatten(f"{prefix}.{k}" if prefix else str(k), v)
        return out
    return {prefix: "" if value is None else str(value)}
