"""`forecast schedule add|list|history|remove|run` and `forecast scheduler`: scheduled batch
predictions, retrains and evaluations."""

from __future__ import annotations

import argparse

from forecasting.cli.evaluate import FLAGS as EVALUATE_THRESHOLDS
from forecasting.cli.options import (
    add_reading_options,
    add_set_option,
    add_tracking_uri_option,
    reading_settings,
)
from forecasting.exit_status import ExitStatus

EXAMPLE_TEMPLATE = "forecasts/{as_of:%Y%m%d%H}.parquet"
EVALUATE_FLAGS = EVALUATE_THRESHOLDS


def _state_parent() -> argparse.ArgumentParser:
    parent = argparse.ArgumentParser(add_help=False)
    parent.add_argument(
        "--state-dir",
        default=None,
        metavar="DIR",
        help="where schedules and their history live (default: $FORECAST_STATE_DIR or .forecast)",
    )
    return parent


def register(subparsers) -> None:
    from forecasting.serving.schedule import DEFAULT_MISFIRE_GRACE, DEFAULT_POLL_SECONDS

    state = _state_parent()
    p = subparsers.add_parser(
        "schedule",
        help="add, list, remove or run scheduled batch predictions, retrains and evaluations; "
        "their run history",
    )
    sub = p.add_subparsers(dest="schedule_command", metavar="ACTION", parser_class=type(p))
    sub.required = True

    add = sub.add_parser("add", parents=[state], help="add (or replace) a schedule")
    add.add_argument("name", help="schedule name (letters, digits, '.', '_', '-')")
    add.add_argument(
        "--cron",
        required=True,
        metavar="EXPR",
        help='crontab line, e.g. "0 6 * * *" (6 fields: seconds first), in UTC unless --timezone',
    )
    add.add_argument(
        "--model",
        default=None,
        metavar="URI",
        help="model to predict with: models:/NAME@ALIAS, models:/NAME/VERSION, runs:/RUN_ID/PATH "
        "or a local model folder (a prediction schedule); with --evaluate, the registered model "
        "NAME whose forecasts to judge (default: every model the lineage names)",
    )
    add.add_argument(
        "--data", default=None, metavar="PATH", help="history file read at each prediction"
    )
    add.add_argument(
        "--output",
        default=None,
        metavar="TEMPLATE",
        help=f"output path; may contain the as-of time, e.g. {EXAMPLE_TEMPLATE.replace('%', '%%')}",
    )
    add.add_argument(
        "--retrain",
        default=None,
        metavar="PIPELINE",
        help="instead of predicting, rerun this pipeline's comparison at each run (forecast "
        "retrain, in a process of its own; training.warm_start says how each family starts)",
    )
    add.add_argument(
        "--evaluate",
        action="store_true",
        help="instead of predicting, run forecast evaluate at each run (in a process of its own): "
        "with --forecasts and --actuals, and evaluate's --model, --config, --set and thresholds",
    )
    add.add_argument(
        "--forecasts",
        default=None,
        metavar="GLOB",
        help="with --evaluate: forecast files (quote it)",
    )
    add.add_argument(
        "--actuals", default=None, metavar="PATH", help="with --evaluate: the actuals file"
    )
    add.add_argument(
        "--config",
        default=None,
        metavar="PIPELINE",
        help="with --evaluate: pipeline YAML whose monitoring section (and mlflow.tracking_uri) to use",
    )
    add_set_option(add, "with --evaluate: override a config value, e.g. --set monitoring.last=10")
    for flag, (_, kind, text) in EVALUATE_FLAGS.items():
        add.add_argument(flag, type=kind, default=None, help=f"with --evaluate: {text}")
    add.add_argument(
        "--timezone",
        default="UTC",
        metavar="TZ",
        help="time zone of the cron expression (default UTC)",
    )
    add.add_argument(
        "--misfire-grace-time",
        type=int,
        default=DEFAULT_MISFIRE_GRACE,
        metavar="S",
        help=f"run a late job if it is at most S seconds late (default {DEFAULT_MISFIRE_GRACE})",
    )
    add.add_argument(
        "--levels",
        default=None,
        metavar="P,P",
        help="prediction-interval levels of each run, e.g. 80,95 (default: the model's; '' for none)",
    )
    add.add_argument(
        "--drop-stale",
        action="store_true",
        help="each run leaves out series whose last point is more than one horizon before its as-of time",
    )
    add_reading_options(add)
    add_tracking_uri_option(add)
    add.set_defaults(func=run_add)

    ls = sub.add_parser(
        "list", parents=[state], help="schedules with their next run and last outcome"
    )
    ls.set_defaults(func=run_list)

    hist = sub.add_parser(
        "history",
        parents=[state],
        help="past runs, newest first: status, output or error, duration, MLflow run id",
    )
    hist.add_argument("name", nargs="?", default=None, help="one schedule (default: all)")
    hist.add_argument(
        "--limit", type=int, default=20, metavar="N", help="the last N runs (default 20)"
    )
    hist.set_defaults(func=run_history)

    rm = sub.add_parser("remove", parents=[state], help="remove a schedule")
    rm.add_argument("name")
    rm.set_defaults(func=run_remove)

    now = sub.add_parser("run", parents=[state], help="run a schedule once, now, in this process")
    now.add_argument("name")
    now.set_defaults(func=run_now, needs_tensorflow=True)

    daemon = subparsers.add_parser(
        "scheduler",
        parents=[state],
        help="run due schedules in the foreground until SIGTERM/SIGINT",
        description="Run due schedules until stopped. SIGTERM or Ctrl-C lets running jobs finish, "
        "then exits 0; a second signal exits at once (status 130). Exits 75 if another scheduler holds "
        "the state folder. Logs go to stderr and <state-dir>/scheduler.log.",
    )
    daemon.add_argument(
        "--poll-seconds",
        type=float,
        default=DEFAULT_POLL_SECONDS,
        metavar="S",
        help=f"re-read the schedules every S seconds (default {DEFAULT_POLL_SECONDS:g})",
    )
    daemon.set_defaults(func=run_scheduler, needs_tensorflow=True)


def _when(value) -> str:
    return value.isoformat(sep=" ", timespec="seconds") if value is not None else "-"


PREDICTION_ONLY = ("--model", "--data", "--output", "--levels", "--drop-stale")
EVALUATE_ONLY = ("--forecasts", "--actuals", "--config", "--set", *EVALUATE_FLAGS)


def _dest(flag: str) -> str:
    return "overrides" if flag == "--set" else flag.lstrip("-").replace("-", "_")


def _given(args, flag: str) -> bool:
    value = getattr(args, _dest(flag))
    return value not in (None, False, [])


def _reading_flags(args) -> list[str]:
    """The reading flags given, as ``forecast evaluate`` takes them."""
    flags: list[str] = []
    for key, value in reading_settings(args).items():
        flag = f"--{key.replace('_', '-')}"
        if isinstance(value, bool):
            flags.append(flag if value else f"--no-{flag[2:]}")
        elif value is not None:
            flags += [flag, str(value)]
    return flags


def _evaluate_arguments(args) -> tuple[list[str], str]:
    """``forecast evaluate``'s flags besides the files, model and store, checked as it would
    check them, and the tracking URI.

    Raises:
        InputError: a bad pipeline file, ``--set`` or threshold; nothing is stored then.
    """
    from pathlib import Path

    from forecasting.cli.evaluate import settings_from

    _, tracking_uri = settings_from(args)  # refuses what forecast evaluate would refuse
    arguments: list[str] = []
    if args.config:
        arguments += ["--config", str(Path(args.config).expanduser().resolve())]
    for override in args.overrides:
        arguments += ["--set", override]
    for flag in EVALUATE_FLAGS:
        if _given(args, flag):
            arguments += [flag, str(getattr(args, _dest(flag)))]
    return arguments + _reading_flags(args), tracking_uri


def _add_evaluate(args) -> int:
    from forecasting.errors import ConfigError
    from forecasting.serving.schedule import add_evaluate_schedule

    extra = [flag for flag in ("--retrain", *PREDICTION_ONLY[1:]) if _given(args, flag)]
    if extra:
        raise ConfigError(f"{extra[0]} is not for evaluate schedules (--evaluate)")
    missing = [flag for flag in ("--forecasts", "--actuals") if not _given(args, flag)]
    if missing:
        raise ConfigError(f"{missing[0]} is required with --evaluate")
    arguments, tracking_uri = _evaluate_arguments(args)
    schedule, replaced = add_evaluate_schedule(
        args.name,
        args.cron,
        args.forecasts,
        args.actuals,
        tracking_uri,
        arguments=arguments,
        model=args.model,
        timezone=args.timezone,
        misfire_grace_time=args.misfire_grace_time,
        folder=args.state_dir,
    )
    verb = "replaced" if replaced else "added"
    print(
        f"{verb} evaluate schedule {schedule.name!r}: {schedule.cron} ({schedule.timezone}), "
        f"next run {_when(schedule.next_run)}"
    )
    print(f"  forecast evaluate --forecasts {schedule.data} --actuals {schedule.output}")
    return ExitStatus.OK


def run_add(args) -> int:
    from forecasting.errors import ConfigError
    from forecasting.serving.schedule import add_retrain_schedule, add_schedule

    if args.evaluate:
        return _add_evaluate(args)
    evaluate_only = [flag for flag in EVALUATE_ONLY if _given(args, flag)]
    if evaluate_only:
        raise ConfigError(f"{evaluate_only[0]} is for evaluate schedules (with --evaluate)")
    if args.retrain is not None:
        extra = [flag for flag in PREDICTION_ONLY if _given(args, flag)]
        extra += [f"--{k.replace('_', '-')}" for k, v in reading_settings(args).items() if v]
        if extra:
            raise ConfigError(f"{extra[0]} is for prediction schedules, not with --retrain")
        schedule, replaced = add_retrain_schedule(
            args.name,
            args.cron,
            args.retrain,
            timezone=args.timezone,
            misfire_grace_time=args.misfire_grace_time,
            tracking_uri=args.tracking_uri,
            folder=args.state_dir,
        )
        verb = "replaced" if replaced else "added"
        print(
            f"{verb} retrain schedule {schedule.name!r}: {schedule.cron} ({schedule.timezone}), "
            f"next run {_when(schedule.next_run)}"
        )
        print(f"  forecast retrain {schedule.data}")
        return ExitStatus.OK
    missing = [flag for flag in ("--model", "--data", "--output") if not _given(args, flag)]
    if missing:
        raise ConfigError(
            f"{missing[0]} is required (or --retrain PIPELINE for a retrain schedule, or "
            "--evaluate for an evaluate schedule)"
        )
    schedule, replaced = add_schedule(
        args.name,
        args.cron,
        args.model,
        args.data,
        args.output,
        timezone=args.timezone,
        misfire_grace_time=args.misfire_grace_time,
        tracking_uri=args.tracking_uri,
        folder=args.state_dir,
        levels=args.levels,
        drop_stale=args.drop_stale,
        reading=reading_settings(args),
    )
    verb = "replaced" if replaced else "added"
    print(
        f"{verb} schedule {schedule.name!r}: {schedule.cron} ({schedule.timezone}), next run {_when(schedule.next_run)}"
    )
    print(f"  {schedule.model} on {schedule.data} -> {schedule.output}")
    return ExitStatus.OK


def run_list(args) -> int:
    from forecasting.serving.schedule import list_schedules, state_dir

    schedules = list_schedules(args.state_dir)
    if not schedules:
        print(f"no schedules in {state_dir(args.state_dir)}")
        return ExitStatus.OK
    rows = [("NAME", "CRON", "NEXT RUN", "LAST OUTCOME")]
    for s in schedules:
        rows.append(
            (
                s.name + (f" ({s.kind})" if s.kind != "predict" else ""),
                f"{s.cron} ({s.timezone})",
                _when(s.next_run),
                (s.last.describe() if s.last else "never run")
                + (f" (then {s.missed_since} missed)" if s.missed_since else ""),
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r[:3], widths, strict=True)) + "  " + r[3])
    return ExitStatus.OK


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    minutes, secs = divmod(int(round(seconds)), 60)
    return f"{minutes}m{secs:02d}s" if minutes else f"{secs}s"


def run_history(args) -> int:
    from forecasting.errors import ConfigError
    from forecasting.serving.schedule import RunHistory, get_schedule, state_dir

    if args.limit <= 0:
        raise ConfigError(f"--limit must be a positive integer, received: {args.limit}")
    folder = state_dir(args.state_dir)
    runs = RunHistory(folder).recent(args.name, args.limit)
    if not runs:
        if args.name is not None:
            get_schedule(args.name, folder)  # an unknown name is bad input (exit 2)
        print(f"no runs recorded in {folder}" + (f" for {args.name!r}" if args.name else ""))
        return ExitStatus.OK
    rows = [("STARTED (UTC)", "SCHEDULE", "SLOT", "STATUS", "DURATION", "MLFLOW RUN")]
    details = ["OUTPUT / ERROR"]
    for r in runs:
        rows.append(
            (
                r.started_at[:19].replace("T", " "),
                r.name,
                r.scheduled_for or "-",
                r.status,
                _duration(r.duration),
                r.mlflow_run_id or "-",
            )
        )
        details.append(r.detail or "-")
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r, detail in zip(rows, details, strict=True):
        print("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + "  " + detail)
    return ExitStatus.OK


def run_remove(args) -> int:
    from forecasting.serving.schedule import remove_schedule

    remove_schedule(args.name, args.state_dir)
    print(f"removed schedule {args.name!r}")
    return ExitStatus.OK


def run_now(args) -> int:
    from forecasting.serving.schedule import run_schedule_now

    outcome = run_schedule_now(args.name, args.state_dir)
    print(f"schedule {args.name!r}: {outcome.describe()}")
    if outcome.status == "drift":  # an evaluation that raised the alarm, as forecast evaluate
        return ExitStatus.DRIFT_ALARM
    return ExitStatus.OK if outcome.status == "ok" else ExitStatus.JOB_FAILED


def run_scheduler(args) -> int:
    from forecasting.errors import ConfigError
    from forecasting.serving.schedule import serve

    if args.poll_seconds <= 0:
        raise ConfigError(f"--poll-seconds must be positive, received: {args.poll_seconds}")
    return serve(args.state_dir, poll_seconds=args.poll_seconds)
