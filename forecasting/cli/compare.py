"""`forecast compare`: one LSTM-then-GRU comparison on a data file."""

from __future__ import annotations

from forecasting.cli.options import add_data_options


def register(subparsers) -> None:
    p = subparsers.add_parser("compare", help="train an LSTM then a GRU, backtest, decide, register the winner")
    add_data_options(p)
    p.add_argument("--horizon", type=int, required=True, help="steps to forecast")
    p.add_argument("--lookback", type=int, default=None, help="steps the model reads (default 72)")
    p.add_argument("--experiment", default=None, help="MLflow experiment name")
    p.add_argument("--model-name", default=None, help="registered model name")
    p.add_argument("--max-epochs", type=int, default=None, help="epoch budget for each family")
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--gru-impl", choices=["custom", "cell", "keras"], default=None)
    p.set_defaults(func=run, needs_tensorflow=True)


def run(args) -> int:
    from forecasting.cli.run import execute
    from forecasting.config import build_config

    tree: dict = {
        "name": "compare",
        "data": {"path": args.data, "id_col": args.id_col, "time_col": args.time_col, "target": args.target,
                 "covariates": args.covariates, "freq": args.freq, "fill": args.fill},
        "windowing": {"horizon": args.horizon},
        "training": {},
        "mlflow": {},
        "model": {},
    }
    if args.lookback is not None:
        tree["windowing"]["lookback"] = args.lookback
    if args.max_epochs is not None:
        tree["training"]["max_epochs"] = args.max_epochs
    if args.seed is not None:
        tree["training"]["seed"] = args.seed
    if args.experiment:
        tree["mlflow"]["experiment"] = args.experiment
    if args.model_name:
        tree["mlflow"]["model_name"] = args.model_name
    if args.gru_impl:
        tree["model"]["gru_impl"] = args.gru_impl
    return execute(build_config(tree, "command line"))
