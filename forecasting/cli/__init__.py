"""The `forecast` command line: thin parsers that call one library function each.

Every sub-command lives in its own module in this package and exposes
``register(subparsers)``, which adds its parser and sets ``func`` to a callable
taking the parsed ``argparse.Namespace`` and returning an exit status
(:class:`~forecasting.exit_status.ExitStatus`; the README lists them all).
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys

# Keep TensorFlow's start-up noise out of the user's terminal; set before any import of it.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("GIT_PYTHON_REFRESH", "quiet")
os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
os.environ.setdefault("MLFLOW_LOGGING_LEVEL", "WARNING")

from forecasting import __version__  # noqa: E402
from forecasting.cli.crash import (  # noqa: E402
    crash_line,
    silence_stdout,
    stdout_closed,
    write_crash_report,
)
from forecasting.errors import ForecastingError  # noqa: E402
from forecasting.exit_status import ExitStatus  # noqa: E402

# One module per sub-command; each has register(subparsers).
COMMAND_MODULES = (
    "validate",
    "compare",
    "run",
    "retrain",
    "ui",
    "predict",
    "evaluate",
    "schedule",
    "benchmark",
    "diagnose",
    "models",
    "runs",
)


class _Parser(argparse.ArgumentParser):
    """argparse exits with 2 on usage errors already; keep its message to one line."""

    def error(self, message: str) -> None:  # pragma: no cover - argparse plumbing
        self.exit(ExitStatus.BAD_INPUT, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="forecast",
        description="Forecast time series with LSTM and GRU models tracked in MLflow.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="show debug logs")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in COMMAND_MODULES:
        importlib.import_module(f"forecasting.cli.{name}").register(subparsers)
    return parser


def _configure_logging(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        datefmt="%H:%M:%S",
        stream=sys.stderr,
    )
    for noisy in ("mlflow", "alembic", "urllib3", "py4j", "apscheduler.executors", "absl"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    if not verbose:  # tf.function retracing advice is for library authors, not for users
        logging.getLogger("tensorflow").setLevel(logging.ERROR)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return ExitStatus.BAD_INPUT
    _configure_logging(args.verbose)
    if getattr(args, "needs_tensorflow", False) and not args.verbose:
        from forecasting.quiet import import_tensorflow_quietly

        import_tensorflow_quietly()
    try:
        return int(args.func(args) or ExitStatus.OK)
    except ForecastingError as exc:  # bad input, a failed job, a busy lock: one line, no traceback
        print(f"error: {exc}", file=sys.stderr)
        return int(exc.exit_status)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return int(ExitStatus.INTERRUPTED)
    except BrokenPipeError as exc:
        if not stdout_closed():  # a pipe of the job's own, not the reader of our output
            return _unexpected(exc, argv, args)
        silence_stdout()  # the reader (`| head`) has what it wanted
        return int(ExitStatus.OK)
    except Exception as exc:  # a bug or a broken file: one line, the traceback in a file
        return _unexpected(exc, argv, args)


def _unexpected(exc: BaseException, argv: list[str] | None, args) -> int:
    import traceback

    report = write_crash_report(
        exc, sys.argv[1:] if argv is None else argv, args.command, getattr(args, "state_dir", None)
    )
    if args.verbose:
        traceback.print_exception(exc, file=sys.stderr)
    print(crash_line(exc, report), file=sys.stderr)
    return int(ExitStatus.JOB_FAILED)
