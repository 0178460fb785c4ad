"""`forecast diagnose`: gradient flow through time and GRU gates of a packaged forecaster."""

from __future__ import annotations

from forecasting.cli.options import add_model_option, add_tracking_uri_option
from forecasting.exit_status import ExitStatus


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "diagnose",
        help="plot a forecaster's gradient flow through time and its GRU gates",
        description="Measure how the gradient of the last state decays with the distance in time "
        "(the model's own recurrent layers beside SimpleRNN, GRU and LSTM probes of the same size) "
        "and plot the update and reset gates of its GRU layers on the latest window of --data. "
        "The PNGs go to --output and are logged under diagnostics/ in the model's MLflow run "
        "(or in a new run of the experiment diagnostics when the model has no run in the store).",
    )
    add_model_option(p)
    p.add_argument(
        "--data",
        required=True,
        metavar="PATH",
        help="history (CSV or Parquet) with the training file's columns, or bundled:city-temps",
    )
    p.add_argument(
        "--output", required=True, metavar="DIR", help="folder for the plots and the numbers"
    )
    p.add_argument(
        "--series",
        default=None,
        metavar="ID",
        help="series whose window the gate plot shows (default: the first)",
    )
    p.add_argument(
        "--probe-epochs",
        type=int,
        default=3,
        metavar="N",
        help="training epochs of the SimpleRNN/GRU/LSTM probes (default 3; 0 = untrained)",
    )
    p.add_argument("--seed", type=int, default=0, help="seed of the probes (default 0)")
    add_tracking_uri_option(p)
    p.set_defaults(func=run, needs_tensorflow=True)


def run(args) -> int:
    from forecasting.diagnostics.report import diagnose

    result = diagnose(
        args.model,
        args.data,
        args.output,
        tracking_uri=args.tracking_uri,
        series=args.series,
        probe_epochs=args.probe_epochs,
        seed=args.seed,
    )
    print(
        f"diagnosed {result.model_label} ({result.family.upper()}) on the latest window of {result.series!r}"
    )
    for path in result.files:
        print(f"  wrote {path}")
    for note in result.notes:
        print(f"  note: {note}")
    where = "a new run in experiment diagnostics" if result.new_run else "the model's run"
    print(f"  logged to {where}: {result.run_id} (artifacts under diagnostics/)")
    return ExitStatus.OK
