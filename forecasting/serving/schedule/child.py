"""A ``python -m forecasting COMMAND`` child process, as scheduled retrains and evaluations run.

The scheduler never imports what sits above serving (``jobs``, ``monitoring``): it starts the
command in a process of its own, with this package first on the path, its output in a log file,
and waits for it in the scheduler's background executor. A failed child is one line: its last
``error: `` line, else its exit status.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

from forecasting.errors import first_line
from forecasting.exit_status import ExitStatus

log = logging.getLogger(__name__)

ERROR_PREFIX = "error: "  # how the command line reports a failure on stderr


def forecast_command(command: str, *arguments: str) -> list[str]:
    """``python -m forecasting COMMAND ARGUMENTS`` with this interpreter."""
    return [sys.executable, "-m", "forecasting", command, *arguments]


def child_env() -> dict[str, str]:
    """This process's environment, with this package first on the path: the child runs the
    same code as the scheduler."""
    root = str(Path(__file__).resolve().parents[3])
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
    return env


def run_child(name: str, command: list[str], cwd: str, log_path: Path) -> int:
    """Run ``command`` in ``cwd``, its stdout and stderr in ``log_path``; its exit status.

    Raises:
        OSError: the interpreter or the working folder is gone.
    """
    with open(log_path, "wb") as out:
        child = subprocess.Popen(
            command, cwd=cwd, env=child_env(), stdout=out, stderr=subprocess.STDOUT
        )
        log.info("schedule %r: forecast %s running in process %d", name, command[3], child.pid)
        return child.wait()


def run_recorded(history, row: int, name: str, command: list[str], cwd: str, log_path: Path):
    """`run_child`, with a failure to start recorded as history ``row`` failed (then None) and
    an interruption recorded as interrupted before it propagates; else the exit status."""
    try:
        return run_child(name, command, cwd, log_path)
    except OSError as exc:  # the interpreter or the working folder is gone
        history.finish(row, "failed", error=first_line(exc, with_type=True))
        log.error("schedule %r failed: %s", name, first_line(exc, with_type=True))
        return None
    except BaseException as exc:  # interrupted: record it, then let the interruption through
        history.finish(row, "interrupted", error=first_line(exc))
        raise


def error_line(log_path: Path, returncode: int, command: str) -> str:
    """The child's one-line error, else its exit status."""
    lines = log_path.read_text(errors="replace").splitlines() if log_path.exists() else []
    errors = [line for line in lines if line.startswith(ERROR_PREFIX)]
    if errors:
        return errors[-1].removeprefix(ERROR_PREFIX)
    try:
        status = ExitStatus(returncode).name.lower().replace("_", " ")
    except ValueError:
        status = f"status {returncode}"
    return f"forecast {command} exited {returncode} ({status}); see {log_path}"
