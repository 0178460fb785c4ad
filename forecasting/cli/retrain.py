"""`forecast retrain PIPELINE.yaml`: the whole comparison again, warm-started, through the guard."""

from __future__ import annotations

import argparse
from datetime import datetime

from forecasting.cli.options import add_set_option, add_tracking_uri_option, config_default
from forecasting.config import WARM_STARTS
from forecasting.exit_status import ExitStatus

# flag -> (config key, type, help); the help's default is read from the config itself.
FLAGS: dict[str, tuple[str, type, str]] = {
    "--warm-start": (
        "training.warm_start",
        str,
        "latest: each family from its own latest registered version (refused if it does not "
        "fit), cold: from scratch, auto: warm where it can",
    ),
    "--warm-epochs": ("training.warm_epochs", int, "fine-tuning epochs of a warm start"),
}


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "retrain",
        help="rerun a pipeline's comparison on the current data, warm-started; promote only a better model",
    )
    p.add_argument("pipeline", help="path to a pipeline YAML file")
    for flag, (key, kind, text) in FLAGS.items():
        p.add_argument(
            flag,
            type=kind,
            default=None,
            choices=WARM_STARTS if key == "training.warm_start" else None,
            help=f"{text} (default {config_default(key)})",
        )
    add_set_option(p, "override a config value, e.g. --set training.warm_epochs=2")
    add_tracking_uri_option(p)
    p.add_argument("--report", default=None, metavar="FILE", help=argparse.SUPPRESS)
    p.add_argument("--schedule", default=None, metavar="NAME", help=argparse.SUPPRESS)
    p.add_argument(
        "--scheduled-for", default=None, type=datetime.fromisoformat, help=argparse.SUPPRESS
    )
    p.set_defaults(func=run, needs_tensorflow=True)


def overrides(args) -> list[str]:
    """The ``--set`` items the flags given stand for, then the ``--set`` items themselves."""
    given = [
        f"{key}={getattr(args, flag.lstrip('-').replace('-', '_'))}"
        for flag, (key, _, _) in FLAGS.items()
        if getattr(args, flag.lstrip("-").replace("-", "_")) is not None
    ]
    if args.tracking_uri:
        given.append(f"mlflow.tracking_uri={args.tracking_uri}")
    return given + list(args.overrides)


def run(args) -> int:
    from forecasting.config import load_config
    from forecasting.experiments.report import summary
    from forecasting.jobs.retrain import outcome_line, retrain, starts_line

    cfg = load_config(args.pipeline, overrides(args))
    result = retrain(cfg, args.schedule, args.scheduled_for, args.report)
    print(summary(result))
    print(f"Started: {starts_line(result)}")
    print(f"Retrain: {outcome_line(result)}")
    return ExitStatus.OK
