"""`forecast compare`: one LSTM-then-GRU comparison on a data file.

Every flag below sets one key of the pipeline config; a flag not given leaves the config's
default (``auto`` ones are chosen from the data), so the CLI, the YAML file and the library
share one default per setting.
"""

from __future__ import annotations

from forecasting.cli.options import (
    add_data_options,
    add_input_options,
    add_set_option,
    config_default,
    input_settings,
)

# flag -> (config key, type, help); the help's default is read from the config itself.
FLAGS: dict[str, tuple[str, type, str]] = {
    "--horizon": ("windowing.horizon", int, "steps to forecast"),
    "--lookback": ("windowing.lookback", int, "steps the model reads"),
    "--arch": ("model.arch", str, "segment or pointwise network"),
    "--units": ("model.units", int, "width of the recurrent state"),
    "--segment": ("model.segment", int, "steps per segment (segment arch)"),
    "--loss": ("training.loss", str, "scaled_mae, mae, mse or huber"),
    "--max-epochs": ("training.max_epochs", int, "epoch budget for each family"),
    "--batch-size": ("training.batch_size", int, "windows per training step"),
    "--seed": ("training.seed", int, "one seed for both families"),
    "--gru-impl": ("model.gru_impl", str, "custom, cell or keras"),
    "--experiment": ("mlflow.experiment", str, "MLflow experiment name"),
    "--model-name": ("mlflow.model_name", str, "registered model name"),
}


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "compare", help="train an LSTM then a GRU, backtest, decide, register the winner"
    )
    add_data_options(p)
    add_input_options(p)
    for flag, (key, kind, text) in FLAGS.items():
        required = flag == "--horizon"
        default_text = "" if required else f" (default {config_default(key)})"
        p.add_argument(flag, type=kind, default=None, required=required, help=text + default_text)
    add_set_option(
        p, "any other config key, e.g. --set model.dropout=0.5 (see pipelines/demo.yaml)"
    )
    p.set_defaults(func=run, needs_tensorflow=True)


def config_tree(args) -> dict:
    """The config keys the command line sets (only the flags given)."""
    tree: dict = {
        "name": "compare",
        "data": {
            "path": args.data,
            "id_col": args.id_col,
            "time_col": args.time_col,
            "target": args.target,
            "covariates": args.covariates,
            "freq": args.freq,
            "fill": args.fill,
        },
    }
    tree["data"].update(input_settings(args))
    for flag, (key, _, _) in FLAGS.items():
        value = getattr(args, flag.lstrip("-").replace("-", "_"))
        if value is not None:
            section, name = key.split(".")
            tree.setdefault(section, {})[name] = value
    return tree


def run(args) -> int:
    from forecasting.cli.run import execute
    from forecasting.config import build_config

    return execute(build_config(config_tree(args), "command line", args.overrides))
