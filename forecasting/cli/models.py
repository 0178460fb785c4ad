"""`forecast models list|promote|rollback NAME`: the registered model's versions and its
``champion`` alias, moved by hand (each move recorded as tags on the version)."""

from __future__ import annotations

from forecasting.cli.options import add_tracking_uri_option
from forecasting.exit_status import ExitStatus


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "models", help="list a registered model's versions; promote or roll back its champion"
    )
    sub = p.add_subparsers(dest="models_command", metavar="ACTION", required=True)
    listing = sub.add_parser(
        "list", help="versions newest first: aliases, family, backtest metric, data, created"
    )
    listing.add_argument("name", help="registered model name")
    add_tracking_uri_option(listing)
    listing.set_defaults(func=run_list)
    promote = sub.add_parser("promote", help="make VERSION the champion (the one that serves)")
    promote.add_argument("name", help="registered model name")
    promote.add_argument("version", help="the version to serve")
    add_tracking_uri_option(promote)
    promote.set_defaults(func=run_promote)
    back = sub.add_parser("rollback", help="give the champion alias back to the previous champion")
    back.add_argument("name", help="registered model name")
    add_tracking_uri_option(back)
    back.set_defaults(func=run_rollback)


def run_list(args) -> int:
    from forecasting.tracking.registry import versions_table

    table = versions_table(args.name, args.tracking_uri)
    if table.empty:
        print(f"{args.name}: no versions")
        return ExitStatus.OK
    print(table.to_string(index=False, na_rep="–", float_format=lambda v: f"{v:.3f}"))
    return ExitStatus.OK


def run_promote(args) -> int:
    from forecasting.tracking.registry import promote

    before = promote(args.name, args.version, args.tracking_uri)
    was = f" (was version {before})" if before else ""
    print(f"{args.name}@champion is now version {args.version}{was}")
    return ExitStatus.OK


def run_rollback(args) -> int:
    from forecasting.tracking.registry import rollback

    old, new = rollback(args.name, args.tracking_uri)
    print(f"{args.name}@champion rolled back from version {old} to version {new}")
    return ExitStatus.OK
