"""`forecast validate`: load and check a data file, print a short summary."""

from __future__ import annotations

from forecasting.cli.options import add_data_options, columns_from
from forecasting.exit_status import ExitStatus


def register(subparsers) -> None:
    p = subparsers.add_parser("validate", help="check a data file and summarise its series")
    add_data_options(p)
    p.add_argument(
        "--lookback", type=int, default=None, help="require lookback + horizon points per series"
    )
    p.add_argument(
        "--horizon", type=int, default=None, help="require lookback + horizon points per series"
    )
    p.set_defaults(func=run)


def run(args) -> int:
    from forecasting.data import load_series
    from forecasting.errors import ConfigError

    for flag in ("lookback", "horizon"):
        value = getattr(args, flag)
        if value is not None and value <= 0:
            raise ConfigError(f"--{flag} must be a positive integer, received: {value}")
    min_length = None
    if args.lookback or args.horizon:
        min_length = (args.lookback or 1) + (args.horizon or 1)
    data = load_series(
        args.data, columns_from(args), freq=args.freq, fill=args.fill, min_length=min_length
    )
    print(data.summary())
    return ExitStatus.OK
