"""The process that owns a run, and runs whose process is gone.

Every run :func:`forecasting.tracking.runs.tracked_run` starts carries its process: pid, host
and (on Linux) the process's start time. A process killed with SIGKILL, or a machine that lost
power, cannot end its runs; they would stay RUNNING forever. :func:`end_orphaned_runs`, called
whenever a command opens a store, ends those of this host whose process is gone as ``KILLED``
with the reason. Runs of other hosts are never touched: whether their process lives cannot be
seen from here.

A pid can be reused by a later process. Where ``/proc`` exists the process's start time is
recorded too, and a live pid with another start time counts as gone; elsewhere (macOS) a reused
pid keeps an orphaned run RUNNING until that unrelated process ends.
"""

from __future__ import annotations

import logging
import os
import socket
from pathlib import Path

from forecasting.files import pid_alive

log = logging.getLogger(__name__)

PID_TAG = "forecast.pid"
HOST_TAG = "forecast.host"
START_TAG = "forecast.pid_start"  # /proc/<pid>/stat starttime: clock ticks after boot

_PAGE = 1000


def process_start(pid: int) -> str | None:
    """The start time of process ``pid`` as ``/proc`` gives it, or None where it cannot be read."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # Fields after the command name (which may hold spaces and parentheses); starttime is the
    # 22nd field of the whole line, the 20th after the name.
    fields = stat[stat.rfind(")") + 2 :].split()
    return fields[19] if len(fields) > 19 else None


def ownership_tags() -> dict[str, str]:
    """Tags naming this process, for a run it starts."""
    tags = {PID_TAG: str(os.getpid()), HOST_TAG: socket.gethostname()}
    start = process_start(os.getpid())
    if start is not None:
        tags[START_TAG] = start
    return tags


def process_gone(tags: dict[str, str]) -> bool:
    """Whether the process a run's tags name is gone (only meaningful on the same host)."""
    try:
        pid = int(tags[PID_TAG])
    except (KeyError, ValueError):
        return False
    if pid == os.getpid():
        return False
    if not pid_alive(pid):
        return True
    recorded, current = tags.get(START_TAG), process_start(pid)
    return recorded is not None and current is not None and recorded != current


def end_orphaned_runs(uri: str) -> list[str]:
    """End as KILLED the RUNNING runs in the store at ``uri`` whose process on this host is gone.

    Returns their run ids. Each gets the tag ``failure_reason`` saying which process is gone.
    """
    import mlflow
    from mlflow.entities import RunStatus, ViewType

    from forecasting.tracking.runs import REASON_TAG

    host = socket.gethostname()
    client = mlflow.MlflowClient(tracking_uri=uri)
    experiment_ids: list[str] = []
    token = None
    while True:
        page = client.search_experiments(
            view_type=ViewType.ALL, max_results=_PAGE, page_token=token
        )
        experiment_ids += [e.experiment_id for e in page]
        token = page.token
        if not token:
            break
    if not experiment_ids:
        return []
    query = f"attributes.status = 'RUNNING' and tags.`{HOST_TAG}` = '{_quoted(host)}'"
    ended: list[str] = []
    token = None
    while True:
        page = client.search_runs(
            experiment_ids,
            query,
            run_view_type=ViewType.ALL,
            max_results=_PAGE,
            page_token=token,
        )
        for run in page:
            if not process_gone(run.data.tags):
                continue
            pid = run.data.tags[PID_TAG]
            client.set_tag(
                run.info.run_id,
                REASON_TAG,
                f"process {pid} on host {host} is gone (killed or crashed before ending its run)",
            )
            client.set_terminated(run.info.run_id, RunStatus.to_string(RunStatus.KILLED))
            ended.append(run.info.run_id)
        token = page.token
        if not token:
            break
    if ended:
        log.info(
            "ended %d RUNNING run(s) as KILLED: their process on this host is gone", len(ended)
        )
    return ended


def _quoted(value: str) -> str:
    return value.replace("\\", "\\\\").replace("'", "\\'")
