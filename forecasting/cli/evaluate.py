"""`forecast evaluate`: past forecasts scored on the actuals since, and the drift alarm (exit 3)."""

from __future__ import annotations

import math

from forecasting.cli.options import (
    add_reading_options,
    add_set_option,
    add_tracking_uri_option,
    config_default,
    reading_settings,
)

# flag -> (config key, type, help); the help's default is read from the config itself.
FLAGS: dict[str, tuple[str, type, str]] = {
    "--margin": (
        "monitoring.margin",
        float,
        "alarm when the realised MASE of the last forecasts exceeds the backtest MASE by more "
        "than this share of it",
    ),
    "--coverage-floor": (
        "monitoring.coverage_floor",
        float,
        "alarm when a p%% interval covers less than this share of p%% of the points",
    ),
    "--last": ("monitoring.last", int, "K: the complete forecasts the alarm looks at"),
    "--min-forecasts": (
        "monitoring.min_forecasts",
        int,
        "fewer complete forecasts than this never raise the alarm",
    ),
}


def _dest(flag: str) -> str:
    return flag.lstrip("-").replace("-", "_")


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "evaluate",
        help="score past forecasts on the actuals that arrived since; exit 3 on drift",
        description="Join each forecast file matching --forecasts (through its .lineage.json) "
        "with the actuals in --actuals that arrived since its as-of time, score it (MASE, sMAPE, "
        "MAE, interval coverage; the best baseline on the same points), log it to the model "
        "version's monitoring run in MLflow, and judge the last forecasts against the "
        "version's backtest. Exit status 3 when the drift alarm is raised.",
    )
    p.add_argument(
        "--forecasts",
        required=True,
        metavar="GLOB",
        help="forecast files written by forecast predict, e.g. 'forecasts/*.csv' (quote it)",
    )
    p.add_argument(
        "--actuals",
        required=True,
        metavar="PATH",
        help="actuals in the training file's long format, with the history before the forecasts",
    )
    p.add_argument(
        "--model",
        default=None,
        metavar="NAME",
        help="only forecasts of this registered model (default: every model the lineage names)",
    )
    p.add_argument(
        "--config",
        default=None,
        metavar="PIPELINE",
        help="pipeline YAML whose monitoring section (and mlflow.tracking_uri) to use",
    )
    add_set_option(p, "override a config value, e.g. --set monitoring.last=10")
    for flag, (key, kind, text) in FLAGS.items():
        p.add_argument(
            flag, type=kind, default=None, help=f"{text} (default {config_default(key)})"
        )
    add_reading_options(p)
    add_tracking_uri_option(p)
    p.set_defaults(func=run)


def settings_from(args):
    """The monitoring settings and the tracking URI: the config's (or the defaults), then the
    flags given."""
    from forecasting.config import MonitoringConfig, build_config, load_config

    cfg = (
        load_config(args.config, args.overrides)
        if args.config
        else build_config({}, "command line", args.overrides)
    )
    given = {
        key.split(".")[1]: getattr(args, _dest(flag))
        for flag, (key, _, _) in FLAGS.items()
        if getattr(args, _dest(flag)) is not None
    }
    settings = MonitoringConfig(**(cfg.monitoring.model_dump() | given))
    return settings, args.tracking_uri or cfg.mlflow.tracking_uri


def _fmt(value: float, percent: bool = False) -> str:
    if not math.isfinite(value):
        return "-"
    return f"{value:.0%}" if percent else f"{value:.3f}"


def run(args) -> int:
    from forecasting.monitoring.evaluate import evaluate

    settings, uri = settings_from(args)
    report = evaluate(
        args.forecasts,
        args.actuals,
        model=args.model,
        tracking_uri=uri,
        settings=settings,
        reading=reading_settings(args),
    )
    for version in report.versions:
        e = version.expected
        print(
            f"{version.label}: backtest MASE {_fmt(e.mase)} "
            f"(95% band {_fmt(e.low)}..{_fmt(e.high)}), {e.baseline} {_fmt(e.baseline_mase)}"
        )
        for s in version.scored:
            cov = "".join(
                f"  cover{p} {_fmt(s.summary.get(f'coverage_{p}', math.nan), True)}"
                for p in s.forecast.levels
            )
            print(
                f"  as of {s.forecast.as_of}  {s.status:<18} MASE {_fmt(s.summary['mase'])}  "
                f"sMAPE {_fmt(s.summary['smape'])}  MAE {_fmt(s.summary['mae'])}{cov}  "
                f"{e.baseline} MASE {_fmt(s.summary['baseline_mase'])}  {s.forecast.path.name}"
            )
        print(version.verdict.line)
        if version.logged is not None:
            print(f"  MLflow run: {version.logged.run_id} (experiment monitoring)")
    return report.exit_status
