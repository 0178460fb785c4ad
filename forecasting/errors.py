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
