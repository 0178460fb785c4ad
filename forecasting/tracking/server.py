"""Start and stop an ``mlflow server`` over the project's store.

The server spawns helper processes (gunicorn/uvicorn workers, the job runner)
that can outlive it, so it runs in its own process group and stopping it ends
the whole group.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from forecasting.tracking.store import artifact_root, resolve_uri

log = logging.getLogger(__name__)


def server_command(uri: str | None, host: str, port: int, workers: int = 1) -> list[str]:
    uri = resolve_uri(uri)
    cmd = [
        str(Path(sys.executable).with_name("mlflow")),
        "server",
        "--backend-store-uri",
        uri,
        "--host",
        host,
        "--port",
        str(port),
        "--workers",
        str(workers),
    ]
    root = artifact_root(uri)
    if root:
        cmd += ["--artifacts-destination", root]
    return cmd


def start_server(
    uri: str | None = None, host: str = "127.0.0.1", port: int = 5000, log_file=None
) -> subprocess.Popen:
    """Start ``mlflow server`` in a new process group; returns the process."""
    cmd = server_command(uri, host, port)
    log.info("starting %s", " ".join(cmd))
    return subprocess.Popen(
        cmd,
        start_new_session=True,
        stdout=log_file or subprocess.DEVNULL,
        stderr=subprocess.STDOUT if log_file else subprocess.DEVNULL,
        env=os.environ
        | {"MLFLOW_LOGGING_LEVEL": os.environ.get("MLFLOW_LOGGING_LEVEL", "WARNING")},
    )


def wait_until_up(url: str, proc: subprocess.Popen | None = None, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"mlflow server exited with status {proc.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise TimeoutError(f"mlflow server at {url} did not answer within {timeout:.0f}s")


def _group_gone(pgid: int, timeout: float) -> bool:
    """Wait until no process of group ``pgid`` is left (exited helpers linger until reaped)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.1)


@contextlib.contextmanager
def _signals_held():
    """SIGTERM and SIGINT ignored meanwhile (in the main thread), so a second Ctrl-C cannot
    cut the stop short and leave part of the group behind."""
    try:
        previous = {s: signal.signal(s, signal.SIG_IGN) for s in (signal.SIGTERM, signal.SIGINT)}
    except ValueError:  # not the main thread: signals are not ours to hold
        yield
        return
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


def stop_server(proc: subprocess.Popen, timeout: float = 15.0) -> None:
    """End the server's whole process group: SIGTERM, then SIGKILL if it lingers.

    Returns once no process of the group is left (or, where nothing reaps orphans, after
    ``timeout`` following SIGKILL), not merely once the server itself has exited. SIGTERM and
    SIGINT sent to this process meanwhile are ignored.
    """
    with _signals_held():
        _stop_group(proc, timeout)


def _stop_group(proc: subprocess.Popen, timeout: float) -> None:
    try:
        pgid = os.getpgid(proc.pid)
    except ProcessLookupError:
        return
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(pgid, sig)
        except ProcessLookupError:
            break
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            continue
        # Helpers (uvicorn, the job runner's consumers) may outlive the server.
        if _group_gone(pgid, timeout):
            break
    else:
        log.warning("processes of the mlflow server's group %d are still present", pgid)
    proc.wait(timeout=timeout)
