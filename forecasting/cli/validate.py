"""`forecast validate`: load and check a data file, print a short summary."""

from __future__ import annotations

from forecasting.cli.options import add_data_options, add_input_options, columns_from
from forecasting.exit_status import ExitStatus

SHOWN = 10  # left-out series listed before "and N more"


def register(subparsers) -> None:
    p = subparsers.add_parser("validate", help="check a data file and summarise its series")
    add_data_options(p)
    add_input_options(p)
    p.add_argument(
        "--lookback", type=int, default=None, help="require lookback + horizon points per series"
    )
    p.add_argument(
        "--horizon", type=int, default=None, help="require lookback + horizon points per series"
    )
    p.set_defaults(func=run)


def run(args) -> int:
    from forecasting.cli.options import input_settings
    from forecasting.config import DataConfig
    from forecasting.data import load_series
    from forecasting.errors import ConfigError
    from forecasting.models.baselines import seasonal_period
    from forecasting.windowing.usable import partition

    for flag in ("lookback", "horizon"):
        value = getattr(args, flag)
        if value is not None and value <= 0:
            raise ConfigError(f"--{flag} must be a positive integer, received: {value}")
    settings = DataConfig(path=args.data, freq=args.freq, fill=args.fill, **input_settings(args))
    min_length = None
    if args.lookback or args.horizon:
        min_length = (args.lookback or 1) + (args.horizon or 1)
    data = load_series(
        args.data,
        columns_from(args),
        freq=args.freq,
        fill=args.fill,
        min_length=min_length,
        **settings.read_options(),
    )
    _, left = partition(
        data, None, strict=settings.strict, bound=settings, period=seasonal_period(data.freq)
    )
    print(data.summary())
    if left:
        print(f"  left out of training, forecast by the best baseline: {len(left)} series")
        for x in left[:SHOWN]:
            print(f"    {x.uid}: {x.reason}")
        if len(left) > SHOWN:
            print(f"    ... and {len(left) - SHOWN} more")
    return ExitStatus.OK
