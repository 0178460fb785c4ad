"""One scheduler per state folder: an exclusive ``flock`` on ``scheduler.lock``, which holds its pid."""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path

from forecasting.errors import Busy
from forecasting.serving.schedule.state import LOCK_FILE


class SchedulerBusy(Busy):
    """Another scheduler process holds the state folder (exit status 75, not bad input)."""


@contextlib.contextmanager
def exclusive(folder: Path):
    """Hold the state folder's lock until the block ends (or the process does).

    Raises:
        SchedulerBusy: another process holds it; the message names its pid.
    """
    lock_path = folder / LOCK_FILE
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
            raise SchedulerBusy(
                f"{folder}: another forecast scheduler is running (pid {holder})"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield
    finally:
        os.close(fd)  # releases the lock
