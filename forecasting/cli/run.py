"""`forecast run PIPELINE.yaml [--set key=value ...]`: run a pipeline config."""

from __future__ import annotations

from forecasting.cli.options import add_set_option
from forecasting.exit_status import ExitStatus


def register(subparsers) -> None:
    p = subparsers.add_parser("run", help="run a pipeline config (pipelines/*.yaml)")
    p.add_argument("pipeline", help="path to a pipeline YAML file")
    add_set_option(p, "override a config value, e.g. --set training.max_epochs=5")
    p.set_defaults(func=run, needs_tensorflow=True)


def execute(cfg) -> int:
    from forecasting.experiments.compare import run_comparison
    from forecasting.experiments.report import summary

    result = run_comparison(cfg)
    print(summary(result))
    return ExitStatus.OK


def run(args) -> int:
    from forecasting.config import load_config

    return execute(load_config(args.pipeline, args.overrides))
