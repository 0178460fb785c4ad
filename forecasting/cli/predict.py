"""`forecast predict`: batch predictions from a registered forecaster, with lineage."""

from __future__ import annotations

from forecasting.cli.options import (
    add_model_option,
    add_reading_options,
    add_tracking_uri_option,
    reading_settings,
)
from forecasting.exit_status import ExitStatus


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "predict",
        help="forecast the next H steps of every series in a file with a registered model",
        description="Forecast the next H steps of every series in --data with the model at --model. "
        "The output (CSV or Parquet, by extension) and its lineage sidecar <output>.lineage.json "
        "are written atomically; the prediction is an MLflow run in experiment batch-predictions.",
    )
    add_model_option(p)
    p.add_argument(
        "--data",
        required=True,
        metavar="PATH",
        help="history in long format (CSV or Parquet) with the training file's column names",
    )
    p.add_argument(
        "--output", required=True, metavar="PATH", help="forecast file: .csv or .parquet"
    )
    p.add_argument(
        "--as-of",
        default=None,
        metavar="TIMESTAMP",
        help="use only history at or before this time (backfills), e.g. 2024-01-31T00:00",
    )
    p.add_argument(
        "--engine",
        default="local",
        choices=["local", "spark"],
        help="score in this process or on Spark, one group per series (default local)",
    )
    p.add_argument(
        "--spark-master",
        default=None,
        metavar="URL",
        help="Spark master for --engine spark (default local[*])",
    )
    p.add_argument(
        "--levels",
        default=None,
        metavar="P,P",
        help="prediction-interval levels in percent, integers from 1 to 99, e.g. 80,95: columns "
        "y_hat_lo_<P> and y_hat_hi_<P> (default: the model's, as trained; '' for none)",
    )
    p.add_argument(
        "--drop-stale",
        action="store_true",
        help="leave out series whose last point is more than one horizon before the as-of time "
        "(--as-of, else the latest timestamp in --data); they are warned about either way",
    )
    add_reading_options(p)
    add_tracking_uri_option(p)
    p.set_defaults(func=run, needs_tensorflow=True)


def run(args) -> int:
    from forecasting.serving.batch import predict_batch

    result = predict_batch(
        args.model,
        args.data,
        args.output,
        as_of=args.as_of,
        engine=args.engine,
        spark_master=args.spark_master,
        tracking_uri=args.tracking_uri,
        levels=args.levels,
        drop_stale=args.drop_stale,
        reading=reading_settings(args),
    )
    lin = result.lineage
    model = (
        f"{lin['model_name']} v{lin['model_version']}" if lin["model_name"] else lin["model_uri"]
    )
    if lin["model_alias"]:
        model += f" (@{lin['model_alias']})"
    print(
        f"wrote {result.rows} forecasts ({lin['series']} series x {lin['horizon']} steps) to {result.output}"
    )
    print(
        f"  model: {model}, history up to {lin['history_end']}"
        + (f", as of {lin['as_of']}" if lin["as_of"] else "")
    )
    if lin["stale_series"]:
        what = "left out (--drop-stale)" if lin["stale_dropped"] else "forecast anyway"
        print(
            f"  stale: {lin['stale_series']} series end before {lin['stale_before']}, {what}: "
            + ", ".join(lin["stale_series_ids"])
        )
    print(f"  lineage: {result.lineage_path}")
    print(f"  MLflow run: {result.run_id} (experiment batch-predictions)")
    return ExitStatus.OK
