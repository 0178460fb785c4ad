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
        "--target", default=TARGET, metavar="C", help=f"target column (default {TARGET})"
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
