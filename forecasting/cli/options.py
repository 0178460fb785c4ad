"""Command-line options shared by several sub-commands."""

from __future__ import annotations

import argparse

from forecasting.data import Columns, FillPolicy
from forecasting.data.schema import ID, TARGET, TIME


def add_data_options(parser: argparse.ArgumentParser, required: bool = True) -> None:
    parser.add_argument(
        "--data",
        required=required,
        metavar="PATH",
        help="CSV or Parquet file in long format, or bundled:city-temps",
    )
    parser.add_argument(
        "--id-col", default=ID, metavar="C", help=f"series id column (default {ID})"
    )
    parser.add_argument(
        "--time-col", default=TIME, metavar="C", help=f"timestamp column (default {TIME})"
    )
    parser.add_argument(
        "--target",
        default=TARGET,
        type=target_columns,
        metavar="C[,C...]",
        help=f"target column (default {TARGET}); several, comma-separated, make a multichannel "
        "target: each column is forecast, and the network tells the columns apart",
    )
    parser.add_argument(
        "--covariates",
        nargs="*",
        default=None,
        metavar="C",
        help="past covariate columns (default: every other numeric column)",
    )
    parser.add_argument(
        "--freq", default=None, metavar="F", help="pandas frequency, e.g. h, D (default: inferred)"
    )
    parser.add_argument(
        "--fill",
        default=FillPolicy.INTERPOLATE.value,
        choices=[p.value for p in FillPolicy],
        help="how to treat missing timestamps and values (default interpolate)",
    )


def config_default(key: str):
    """The default of config key ``section.name``, read from its section's class."""
    from forecasting.config import PipelineConfig

    section, name = key.split(".")
    return PipelineConfig.model_fields[section].default.model_fields[name].default


# flag -> (config key, type, help) for how a data file is read and how much may be filled;
# the help's default is read from the config itself.
INPUT_FLAGS: dict[str, tuple[str, type, str]] = {
    "--sep": ("data.sep", str, "CSV separator, e.g. ';' (default: sniffed from the first lines)"),
    "--date-format": (
        "data.date_format",
        str,
        "strptime format of the time column, e.g. %%d/%%m/%%Y (default: inferred)",
    ),
    "--max-fill": (
        "data.max_fill",
        float,
        "largest share of a series' points that may be invented by filling",
    ),
    "--max-gap": ("data.max_gap", str, "longest gap that may be filled, in steps, or 'season'"),
}
# boolean flag -> (config key, help); --dayfirst also has --no-dayfirst.
INPUT_SWITCHES: dict[str, tuple[str, str]] = {
    "--wide": ("data.wide", "the file is a time column and one column per series"),
    "--dayfirst": ("data.dayfirst", "NN/NN/YYYY dates are day first (--no-dayfirst: month first)"),
    "--strict": (
        "data.strict",
        "refuse the data if any series cannot be used as given (too short, or over the fill "
        "bound), instead of leaving it to the best baseline",
    ),
}


def _dest(flag: str) -> str:
    return flag.lstrip("-").replace("-", "_")


def add_input_options(parser: argparse.ArgumentParser) -> None:
    """Flags for how a data file is read and which series can be used as given."""
    for flag, (key, kind, text) in INPUT_FLAGS.items():
        default = config_default(key)
        shown = "" if default is None else f" (default {default})"
        parser.add_argument(flag, type=kind, default=None, help=text + shown)
    for flag, (_, text) in INPUT_SWITCHES.items():
        action = argparse.BooleanOptionalAction if flag == "--dayfirst" else "store_true"
        parser.add_argument(flag, action=action, default=None, help=text)


READING = ("--sep", "--date-format", "--dayfirst")  # how a history file is read, for predict


def add_reading_options(parser: argparse.ArgumentParser) -> None:
    """The input flags that say how a file is read (no fill bound: a model's history is not
    regularised beyond what the model was trained with)."""
    for flag in READING:
        if flag in INPUT_FLAGS:
            parser.add_argument(
                flag, type=INPUT_FLAGS[flag][1], default=None, help=INPUT_FLAGS[flag][2]
            )
        else:
            text = INPUT_SWITCHES[flag][1]
            parser.add_argument(
                flag, action=argparse.BooleanOptionalAction, default=None, help=text
            )


def reading_settings(args: argparse.Namespace) -> dict:
    """``sep``, ``date_format``, ``dayfirst`` as given on the command line (None: not given)."""
    return {_dest(flag): getattr(args, _dest(flag)) for flag in READING}


def input_settings(args: argparse.Namespace) -> dict:
    """The ``data`` config keys the input flags given on the command line set."""
    out = {}
    for flag, (key, *_) in {**INPUT_FLAGS, **INPUT_SWITCHES}.items():
        value = getattr(args, _dest(flag))
        if value is not None:
            out[key.split(".")[1]] = value
    return out


def add_set_option(parser: argparse.ArgumentParser, help: str) -> None:
    """``--set KEY=VALUE`` (repeatable): any config key, parsed into ``args.overrides``."""
    parser.add_argument(
        "--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE", help=help
    )


def target_columns(text: str) -> str | list[str]:
    """``--target y`` or ``--target HUFL,HULL,OT`` (a multichannel target)."""
    names = [name.strip() for name in text.split(",")]
    if any(not name for name in names):
        raise argparse.ArgumentTypeError(f"empty column name in {text!r}")
    return names[0] if len(names) == 1 else names


def columns_from(args: argparse.Namespace) -> Columns:
    cov = tuple(args.covariates) if args.covariates is not None else None
    return Columns(id=args.id_col, time=args.time_col, target=args.target, covariates=cov)


def add_model_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--model",
        required=True,
        metavar="URI",
        help="models:/NAME@ALIAS, models:/NAME/VERSION, runs:/RUN_ID/PATH or a local model folder",
    )


def add_tracking_uri_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--tracking-uri",
        default=None,
        metavar="URI",
        help="MLflow store (default: $MLFLOW_TRACKING_URI or sqlite:///mlruns/mlflow.db)",
    )
