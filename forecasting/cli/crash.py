"""What the command line does with an exception nobody expected (a bug, a broken file) and with
a reader that went away (``forecast validate ... | head``).

An unexpected exception is one line on stderr naming the file its full traceback was written
to: ``crashes/`` in the state folder (``--state-dir``, ``$FORECAST_STATE_DIR`` or
``.forecast``), else the temporary folder when that one cannot be written. ``-v`` also shows
the traceback on the terminal.
"""

from __future__ import annotations

import os
import select
import sys
import tempfile
import traceback
from datetime import UTC, datetime
from pathlib import Path

from forecasting.errors import first_line
from forecasting.files import write_text

CRASH_FOLDER = "crashes"


def _folders(state_dir: str | None) -> list[Path]:
    from forecasting.serving.schedule.state import state_dir as resolve_state_dir

    return [
        resolve_state_dir(state_dir) / CRASH_FOLDER,
        Path(tempfile.gettempdir()) / f"forecast-{CRASH_FOLDER}",
    ]


def write_crash_report(
    exc: BaseException, argv: list[str], command: str | None, state_dir: str | None
) -> Path | None:
    """Write the command line and ``exc``'s traceback to a new file; its path, or None if no
    folder could take it."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    name = f"{stamp}-{command or 'forecast'}-{os.getpid()}.txt"
    text = (
        f"forecast {' '.join(argv)}\n{datetime.now(UTC).isoformat(timespec='seconds')}\n\n"
        + "".join(traceback.format_exception(exc))
    )
    for folder in _folders(state_dir):
        try:
            folder.mkdir(parents=True, exist_ok=True)
            write_text(folder / name, text)
        except OSError:
            continue
        return folder / name
    return None


def crash_line(exc: BaseException, report: Path | None) -> str:
    where = f"full traceback in {report}" if report else "no folder could take its traceback"
    return f"error: unexpected {first_line(exc, with_type=True)} ({where}; -v shows it)"


def stdout_closed() -> bool:
    """Whether the reader of standard output has gone away (its pipe is broken)."""
    try:
        fd = sys.stdout.fileno()
        poller = select.poll()
        poller.register(fd, select.POLLOUT)
        return any(events & select.POLLERR for _, events in poller.poll(0))
    except (AttributeError, OSError, ValueError):  # no real stdout (captured, closed)
        return False


def silence_stdout() -> None:
    """Point standard output at /dev/null, so that the interpreter's last flush does not
    report the broken pipe again."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, sys.stdout.fileno())
    finally:
        os.close(devnull)
