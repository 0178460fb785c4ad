"""Errors the CLI reports in one line on stderr, with no traceback, as opposed to bugs.

Each class carries its exit status (:class:`~forecasting.exit_status.ExitStatus`): an
:class:`InputError` exits 2, a :class:`JobFailed` 1 and a :class:`Busy` 75. Every
``InputError`` message names the file (or config key), the column and the first offending
row or value, so the user can fix it without a debugger.
"""

from __future__ import annotations

from forecasting.exit_status import ExitStatus


class ForecastingError(Exception):
    """An error the user can act on: the CLI prints it in one line and exits with ``exit_status``."""

    exit_status: ExitStatus = ExitStatus.JOB_FAILED


class InputError(ForecastingError, ValueError):
    """Bad user input: a data file, a config value, a model URI or a CLI flag."""

    exit_status = ExitStatus.BAD_INPUT


class DataError(InputError):
    """A data file that cannot be used: unreadable, missing columns, bad values."""


class ConfigError(InputError):
    """A pipeline config or command-line value that is invalid."""


class JobFailed(ForecastingError, RuntimeError):
    """A job that ran into a problem the user can act on (e.g. training diverged).

    Not a bug and not bad input: the CLI prints one line and exits with status 1.
    """

    exit_status = ExitStatus.JOB_FAILED


class Busy(ForecastingError, RuntimeError):
    """Another process holds what this command needs to itself (e.g. the scheduler's lock).

    Not bad input: the same command works once the other process ends. Exit status 75.
    """

    exit_status = ExitStatus.BUSY


def first_line(exc: BaseException, with_type: bool = False) -> str:
    """The first line of ``exc``'s message, for one-line reports of an error from a library.

    An empty message gives the exception's type name; ``with_type`` puts the type name in
    front (``"KeyError: 'x'"``), for errors that are not the user's input.
    """
    text = str(exc).strip()
    if not text:
        return type(exc).__name__
    line = text.splitlines()[0]
    return f"{type(exc).__name__}: {line}" if with_type else line
