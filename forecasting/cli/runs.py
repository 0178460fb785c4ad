"""`forecast runs list`: past comparisons, newest first, from the MLflow store."""

from __future__ import annotations

from forecasting.cli.options import add_tracking_uri_option
from forecasting.exit_status import ExitStatus


def register(subparsers) -> None:
    p = subparsers.add_parser("runs", help="list past comparisons tracked in MLflow")
    sub = p.add_subparsers(dest="runs_command", metavar="ACTION", parser_class=type(p))
    sub.required = True
    ls = sub.add_parser(
        "list",
        help="past comparisons, newest first: data, horizon, winner, metric and baseline",
    )
    ls.add_argument(
        "--experiment",
        default=None,
        metavar="E",
        help="only this MLflow experiment (default: every experiment of the store)",
    )
    add_tracking_uri_option(ls)
    ls.set_defaults(func=run_list)


def run_list(args) -> int:
    from forecasting.experiments.history import format_comparisons, past_comparisons

    frame = past_comparisons(args.tracking_uri, args.experiment)
    if frame.empty:
        where = f"experiment {args.experiment!r}" if args.experiment else "the store"
        print(f"no comparisons in {where} yet: `forecast run` or `forecast compare` makes one")
    else:
        print(format_comparisons(frame))
    return ExitStatus.OK
