"""Errors that mean "the user's input is wrong", as opposed to bugs.

The CLI turns an :class:`InputError` into one line on stderr and exit status 2,
with no traceback. Every message names the file (or config key), the column and
the first offending row or value, so the user can fix it without a debugger.
"""

from __future__ import annotations


class InputError(ValueError):
    """Bad user input: a data file, a config value, a model URI or a CLI flag."""


class DataError(InputError):
    """A data file that cannot be used: unreadable, missing columns, bad values."""


class ConfigError(InputError):
    """A pipeline config or command-line value that is invalid."""


class JobFailed(RuntimeError):
    """A job that ran into a problem the user can act on (e.g. training diverged).

    Not a bug and not bad input: the CLI prints one line and exits with status 1.
    """
