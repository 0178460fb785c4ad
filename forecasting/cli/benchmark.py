"""`forecast benchmark PART`: speed, model, windowing, accuracy and warm-start benchmarks (``forecasting.benchmarks``).

Every part prints its Markdown table and logs it, with a JSON file, to the MLflow experiment
``benchmarks``; files are kept only in ``--out DIR``. Bare ``forecast benchmark`` lists the parts.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from forecasting.cli.options import add_set_option
from forecasting.config import ARCHS, GRU_IMPLS, LOSSES, SKIPS, ModelSpec, TrainBudget
from forecasting.errors import ConfigError
from forecasting.exit_status import ExitStatus

# `benchmark accuracy` flag -> (config key, type, choices, help). Each sets one setting of the
# forecasters or of their budget; a flag not given leaves the config's default, which the help
# names (``auto`` ones are chosen from the windows of each setting, as `forecast compare` does).
ACCURACY_FLAGS: dict[str, tuple[str, type, tuple[str, ...] | None, str]] = {
    "--arch": ("model.arch", str, ARCHS, "segment or pointwise network"),
    "--units": ("model.units", int, None, "width of the recurrent state"),
    "--segment": ("model.segment", int, None, "steps per segment (segment arch)"),
    "--gru-impl": (
        "model.gru_impl",
        str,
        GRU_IMPLS,
        "our GRU layer, Keras's RNN over our cell, or Keras's GRU",
    ),
    "--max-epochs": ("training.max_epochs", int, None, "epoch budget of each forecaster"),
    "--patience": (
        "training.patience",
        int,
        None,
        "epochs without a better validation loss before stopping",
    ),
    "--batch-size": ("training.batch_size", int, None, "windows per training step"),
    "--learning-rate": ("training.learning_rate", float, None, "Adam's step size"),
    "--seed": ("training.seed", int, None, "one seed for both families"),
    "--loss": ("training.loss", str, LOSSES, "training loss"),
}
_SECTIONS = {"model": ModelSpec, "training": TrainBudget}
DEMO_PIPELINE = Path("pipelines") / "demo.yaml"


def spec_default(key: str):
    """The default of config key ``section.name`` (``model`` or ``training``), from its class."""
    section, name = key.split(".")
    return _SECTIONS[section].model_fields[name].default


def accuracy_default(key: str):
    """The accuracy benchmark's default: its recipe's value (chosen on ETTh1's validation rows),
    else the config's."""
    from forecasting.benchmarks.recipe import RECIPE

    return RECIPE.get(key, spec_default(key))


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


def _model_shape(text: str) -> tuple[int, int, int, int, int, int]:
    parts = text.split(",")
    try:
        shape = tuple(int(p) for p in parts)
    except ValueError:
        shape = ()
    if len(shape) != 6 or min(shape) < 1 or shape[2] > shape[1]:
        raise argparse.ArgumentTypeError(
            "a model shape is six positive integers B,L,W,H,U,F (batch, lookback, segment, "
            f"horizon, units, features) with the segment at most the lookback, received: {text!r}"
        )
    return shape


def _output_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--out",
        metavar="DIR",
        help="also keep the JSON and Markdown files in DIR (default: no files, only stdout and MLflow)",
    )
    p.add_argument("--no-mlflow", action="store_true", help="do not log to MLflow")


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "benchmark",
        help="speed, model, windowing, scale and accuracy benchmarks (forecast benchmark PART)",
        description=(
            "Benchmarks of this product on this machine. Each part prints a Markdown table and "
            "logs it with a JSON file to the MLflow experiment 'benchmarks'; files are kept "
            "only in --out DIR."
        ),
    )
    p.set_defaults(func=lambda args: _list_parts(p))
    parts = p.add_subparsers(dest="part", metavar="PART", parser_class=type(p))

    speed = parts.add_parser(
        "speed",
        help="our GRU against keras.layers.GRU and LSTM, side by side",
        description=(
            "Forward and training-step times of forecasting.layers.GRU, "
            "keras.layers.RNN(GRUCell), keras.layers.GRU and keras.layers.LSTM, measured side "
            "by side, with the ratios to keras.layers.GRU."
        ),
    )
    speed.add_argument(
        "--shapes",
        nargs="+",
        type=_shape,
        metavar="B,T,D,H",
        help="batch,steps,inputs,units (default: 256,64,8,64 64,168,8,128 256,48,1,256 "
        "256,4,256,256 256,14,128,128; the last two are the segment model's encoder)",
    )
    speed.add_argument("--repeats", type=int, default=10, help="timed repeats (default 10)")
    speed.add_argument("--quick", action="store_true", help="tiny shapes, one repeat")
    speed.add_argument(
        "--xla",
        action="store_true",
        help="compile the forward and training step with XLA, as model.fit does by default",
    )
    _output_options(speed)
    speed.set_defaults(func=run_speed, needs_tensorflow=True)

    model = parts.add_parser(
        "model",
        help="the segment forecaster's training step: GRU (ours, keras) vs LSTM of the same width",
        description=(
            "model.train_on_batch (Adam, MAE) and model.predict_on_batch of the whole default "
            "segment forecaster with our GRU, keras.layers.GRU and keras.layers.LSTM of the same "
            "width at the same shapes, side by side, with the ratios LSTM / GRU (above 1: the "
            "GRU is the cheaper, as the rule assumes) and keras GRU / our GRU."
        ),
    )
    model.add_argument(
        "--shapes",
        nargs="+",
        type=_model_shape,
        metavar="B,L,W,H,U,F",
        help="batch,lookback,segment,horizon,units,features (default: 256,96,24,96,256,1 "
        "256,336,24,48,128,1 256,104,26,13,64,1: ETTh1, an hourly and a weekly panel)",
    )
    model.add_argument("--repeats", type=int, default=10, help="timed repeats (default 10)")
    model.add_argument("--quick", action="store_true", help="tiny shapes, one repeat")
    _output_options(model)
    model.set_defaults(func=run_model, needs_tensorflow=True)

    windowing = parts.add_parser(
        "windowing",
        help="our windowing against keras.utils.timeseries_dataset_from_array",
        description=(
            "Cuts every (lookback + horizon) window, stride 1, of a synthetic float32 panel into "
            "one array, ours and Keras's way, each in a fresh process: wall time and memory."
        ),
    )
    windowing.add_argument(
        "--series", type=int, default=1000, help="series in the panel (default 1000)"
    )
    windowing.add_argument(
        "--length", type=int, default=10_000, help="points per series (default 10000)"
    )
    windowing.add_argument("--lookback", type=int, default=168, help="default 168")
    windowing.add_argument("--horizon", type=int, default=24, help="default 24")
    windowing.add_argument(
        "--keras-series",
        type=int,
        default=100,
        help="series Keras runs on, extrapolated (default 100)",
    )
    windowing.add_argument(
        "--batch-size", type=int, default=1024, help="Keras batch size (default 1024)"
    )
    windowing.add_argument(
        "--check-series", type=int, default=3, help="series compared element by element (default 3)"
    )
    windowing.add_argument("--repeat", type=int, default=3, help="runs of our code (default 3)")
    _output_options(windowing)
    # No TensorFlow in this process before the measuring processes start (peak RSS).
    windowing.set_defaults(func=run_windowing)

    scale = parts.add_parser(
        "scale",
        help="seconds and peak RSS of load, windows, one epoch, backtest, predict on large panels",
        description=(
            "Runs the product's steps (load, windows, one training epoch, backtest, predict) on "
            "synthetic hourly panels, each size in a fresh process: seconds and peak RSS of "
            "each step, and the bytes the windows hold."
        ),
    )
    scale.add_argument(
        "--series",
        type=int,
        nargs="+",
        default=[1_000, 10_000],
        metavar="N",
        help="panel sizes (default 1000 10000)",
    )
    scale.add_argument("--length", type=int, default=2_000, help="points per series (default 2000)")
    scale.add_argument("--lookback", type=int, default=168, help="default 168")
    scale.add_argument("--horizon", type=int, default=24, help="default 24")
    scale.add_argument("--units", type=int, default=32, help="GRU width (default 32)")
    scale.add_argument(
        "--batch-size", type=int, default=256, help="windows per training step (default 256)"
    )
    scale.add_argument(
        "--windows-per-series",
        type=int,
        default=None,
        help="training windows of each series per epoch (default: every window)",
    )
    _output_options(scale)
    # No TensorFlow in this process before the measuring processes start (peak RSS).
    scale.set_defaults(func=run_scale)

    accuracy = parts.add_parser(
        "accuracy",
        help="test MSE/MAE on ETTh1 under the standard protocol, beside the published numbers",
        description=(
            "Scores the naive baselines, the LSTM and the GRU under the standard ETTh1 protocol "
            "(rows 0-8640 train, 8640-11520 validation, 11520-14400 test, z-scored with "
            "training statistics) for every horizon and mode given."
        ),
    )
    accuracy.add_argument("--data", required=True, metavar="PATH", help="ETTh1.csv")
    accuracy.add_argument(
        "--horizon",
        type=int,
        nargs="+",
        default=[96, 192, 336, 720],
        metavar="H",
        help="default 96 192 336 720",
    )
    accuracy.add_argument(
        "--lookback",
        type=int,
        nargs="+",
        default=[96],
        metavar="L",
        help="default 96; several (e.g. 96 336 720): each is trained, and a second table "
        "keeps, per setting and family, the one with the lowest validation error",
    )
    accuracy.add_argument(
        "--mode",
        nargs="+",
        default=["univariate", "multivariate"],
        choices=("univariate", "multivariate"),
        help="univariate: OT alone; multivariate: all 7 columns as one multichannel target "
        "(default both)",
    )
    accuracy.add_argument(
        "--no-channel-embedding",
        dest="channels",
        action="store_false",
        help="multivariate: read the 7 columns as unrelated series (no embedding per column)",
    )
    accuracy.add_argument(
        "--quick",
        action="store_true",
        help="one tiny setting (H 24, L 48, univariate, 8 units, 1 epoch): checks the plumbing",
    )
    for flag, (key, kind, choices, text) in ACCURACY_FLAGS.items():
        accuracy.add_argument(
            flag,
            type=kind,
            default=None,
            choices=choices,
            help=f"{text} (default {accuracy_default(key)})",
        )
    accuracy.add_argument(
        "--skip",
        default=None,
        choices=SKIPS,
        help=f"naive forecast the network corrects (default {accuracy_default('model.skip')})",
    )
    accuracy.add_argument(
        "--dropout",
        type=float,
        default=None,
        help=f"dropout before the output projection (default {accuracy_default('model.dropout')})",
    )
    _output_options(accuracy)
    accuracy.set_defaults(func=run_accuracy, needs_tensorflow=True)

    warm = parts.add_parser(
        "warm-start",
        help="warm against cold retraining on the same data: time and accuracy",
        description=(
            "Train the pipeline's comparison on its data without the newest part, then retrain "
            "on all of it twice from the versions that registered: warm (training.warm_start "
            "latest, training.warm_epochs) and cold (from scratch, training.max_epochs). Per "
            "family: epochs, training time, backtest metrics on the same windows. Runs in a "
            "temporary MLflow store."
        ),
    )
    warm.add_argument(
        "--pipeline",
        default=str(DEMO_PIPELINE),
        metavar="YAML",
        help="the pipeline to retrain (default pipelines/demo.yaml)",
    )
    warm.add_argument(
        "--new-fraction",
        type=float,
        default=None,
        metavar="F",
        help="share of each series that is new since the previous training (default 0.1)",
    )
    add_set_option(warm, "override a pipeline value, e.g. --set training.warm_epochs=2")
    _output_options(warm)
    warm.set_defaults(func=run_warm_start, needs_tensorflow=True)


def _list_parts(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return ExitStatus.BAD_INPUT


def _publish(report, args) -> int:
    from forecasting.benchmarks.report import publish

    published = publish(report, out=args.out, log_mlflow=not args.no_mlflow)
    print(report.markdown, end="")
    if published.files:
        print(f"\nwrote {' and '.join(str(p) for p in published.files)}")
    if published.mlflow_run_id:
        print(f"\nMLflow run {published.mlflow_run_id} in experiment 'benchmarks'")
    if not published.files and not published.mlflow_run_id:
        print("\nnothing kept (pass --out DIR to keep the files)")
    return ExitStatus.OK


def run_speed(args) -> int:
    if args.repeats < 1:
        raise ConfigError(f"--repeats must be a positive integer, received: {args.repeats}")
    from forecasting.benchmarks.speed import benchmark_speed

    report = benchmark_speed(
        shapes=args.shapes, repeats=args.repeats, quick=args.quick, xla=args.xla
    )
    return _publish(report, args)


def run_model(args) -> int:
    if args.repeats < 1:
        raise ConfigError(f"--repeats must be a positive integer, received: {args.repeats}")
    from forecasting.benchmarks.model_speed import ModelShape, benchmark_model_speed

    shapes = [ModelShape(*shape) for shape in args.shapes] if args.shapes else None
    report = benchmark_model_speed(shapes=shapes, repeats=args.repeats, quick=args.quick)
    return _publish(report, args)


def run_windowing(args) -> int:
    from forecasting.benchmarks.windowing import WindowingSettings, benchmark_windowing

    settings = WindowingSettings(
        series=args.series,
        length=args.length,
        lookback=args.lookback,
        horizon=args.horizon,
        keras_series=args.keras_series,
        batch_size=args.batch_size,
        check_series=args.check_series,
        repeat=args.repeat,
    )
    return _publish(benchmark_windowing(settings), args)


def run_scale(args) -> int:
    from forecasting.benchmarks.scale import ScaleSettings, benchmark_scale

    settings = ScaleSettings(
        series=tuple(args.series),
        length=args.length,
        lookback=args.lookback,
        horizon=args.horizon,
        units=args.units,
        batch_size=args.batch_size,
        windows_per_series=args.windows_per_series,
    )
    return _publish(benchmark_scale(settings), args)


def accuracy_sections(args) -> tuple[ModelSpec, TrainBudget]:
    """The forecasters' spec and budget the accuracy flags give (only the flags given)."""
    from forecasting.benchmarks.recipe import QUICK, RECIPE

    chosen = dict(RECIPE)
    if args.quick:
        chosen |= {k: v for k, v in QUICK.items() if "." in k}
    flags = {**ACCURACY_FLAGS, "--skip": ("model.skip",), "--dropout": ("model.dropout",)}
    for flag, (key, *_) in flags.items():
        value = getattr(args, flag.lstrip("-").replace("-", "_"))
        if value is not None:
            chosen[key] = value
    given: dict[str, dict] = {"model": {}, "training": {}}
    for key, value in chosen.items():
        section, name = key.split(".")
        given[section][name] = value
    return ModelSpec(**given["model"]), TrainBudget(**given["training"])


def run_accuracy(args) -> int:
    from forecasting.benchmarks.accuracy import (
        BASELINES,
        QUICK,
        Forecaster,
        Setting,
        benchmark_accuracy,
    )

    modes, horizons, lookbacks = args.mode, args.horizon, args.lookback
    if args.quick:
        modes, horizons, lookbacks = QUICK["modes"], QUICK["horizons"], QUICK["lookbacks"]
    settings = [Setting(h, L, mode) for mode in modes for h in horizons for L in lookbacks]
    spec, budget = accuracy_sections(args)
    models = [*BASELINES, *(Forecaster(cell, spec) for cell in ("lstm", "gru"))]
    return _publish(
        benchmark_accuracy(args.data, settings, models, budget, channels=args.channels), args
    )


def run_warm_start(args) -> int:
    from forecasting.benchmarks.warm_start import DEFAULT_NEW_FRACTION, benchmark_warm_start
    from forecasting.config import load_config

    cfg = load_config(args.pipeline, args.overrides)
    fraction = DEFAULT_NEW_FRACTION if args.new_fraction is None else args.new_fraction
    return _publish(benchmark_warm_start(cfg, args.pipeline, fraction), args)
