"""The exit statuses of every ``forecast`` command, in one place.

README.md's "Exit statuses" table lists each one and what it means for each command
(a test keeps the two in step). A command returns one of these, never a literal number;
the errors in :mod:`forecasting.errors` carry theirs, which the CLI returns after printing
the error in one line. A new kind of outcome gets a new member here, and a row in README.md.
"""

from __future__ import annotations

from enum import IntEnum


class ExitStatus(IntEnum):
    OK = 0
    """The command did what it was asked."""

    JOB_FAILED = 1
    """The job ran but failed in a way the user can act on (training diverged, a scheduled run failed)."""

    BAD_INPUT = 2
    """Bad input or configuration (data file, pipeline config, flag, model URI); nothing was written."""

    DRIFT_ALARM = 3
    """A monitoring check found drift beyond its threshold (the job itself worked)."""

    BUSY = 75
    """Another process holds what the command needs to itself (the scheduler's lock); try again later.

    75 is ``EX_TEMPFAIL`` of sysexits(3), which supervisors and cron wrappers know as "temporary".
    """

    INTERRUPTED = 130
    """Stopped by SIGINT (Ctrl-C) or SIGTERM before it finished; 130 is what shells report for Ctrl-C."""
