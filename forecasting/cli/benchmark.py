"""`forecast benchmark`: the GRU speed benchmark (ours against keras GRU and LSTM)."""

from __future__ import annotations

import argparse

from forecasting.errors import ConfigError


def _shape(text: str) -> tuple[int, int, int, int]:
    parts = text.split(",")
    try:
        shape = tuple(int(p) for p in parts)
    except ValueError:
        shape = ()
    if len(shape) != 4 or min(shape) < 1:
        raise argparse.ArgumentTypeError(
            f"a shape is four positive integers B,T,D,H (batch, steps, inputs, units), "
            f"received: {text!r}"
        )
    return shape


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "benchmark",
        help="time our GRU against keras.layers.GRU and LSTM on this machine",
        description=(
            "Forward and training-step times of forecasting.layers.GRU, "
            "keras.layers.RNN(GRUCell), keras.layers.GRU and keras.layers.LSTM, measured side "
            "by side; prints a Markdown table, writes JSON and logs both to MLflow."
        ),
    )
    p.add_argument(
        "--shapes",
        nargs="+",
        type=_shape,
        metavar="B,T,D,H",
        help="batch,steps,inputs,units (default: 256,64,8,64 64,168,8,128 256,48,1,256)",
    )
    p.add_argument("--repeats", type=int, default=10, help="timed repeats (default 10)")
    p.add_argument("--quick", action="store_true", help="tiny shapes, one repeat")
    p.add_argument("--output", default="benchmarks", help="folder for the JSON and table")
    p.add_argument(
        "--xla",
        action="store_true",
        help="compile the forward and training step with XLA, as model.fit does by default",
    )
    p.add_argument("--no-mlflow", action="store_true", help="do not log to MLflow")
    p.set_defaults(func=run, needs_tensorflow=True)


def run(args) -> int:
    if args.repeats < 1:
        raise ConfigError(f"--repeats must be a positive integer, received: {args.repeats}")
    from forecasting.benchmark import benchmark_gru

    report = benchmark_gru(
        shapes=args.shapes,
        repeats=args.repeats,
        quick=args.quick,
        output_dir=args.output,
        log_mlflow=not args.no_mlflow,
        xla=args.xla,
    )
    print(report.table, end="")
    print(f"\nwrote {report.json_path} and {report.markdown_path}")
    if report.mlflow_run_id:
        print(f"MLflow run {report.mlflow_run_id} in experiment 'benchmarks'")
    return 0
