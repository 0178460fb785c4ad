"""`forecast benchmark model`: the segment forecaster's training step, GRU against LSTM.

The rule keeps the GRU unless the LSTM is clearly better, on the assumption that the GRU is the
cheaper of the two. This part checks that assumption on the model the product trains: the full
default ``segment`` forecaster (`forecasting.models.builder.build_forecaster`: per-window
normalisation, L/w segment embeddings, one recurrent layer, the parallel one-step decoder and
the naive skip) with three recurrent layers of the same width at the same shapes:

- ``ours_gru``: our `forecasting.layers.GRU` (``gru_impl="custom"``, the product's default);
- ``keras_gru``: ``keras.layers.GRU`` (``gru_impl="keras"``);
- ``keras_lstm``: ``keras.layers.LSTM``.

Each model is compiled as training compiles it (Adam, MAE, Keras's default ``jit_compile``),
then ``model.train_on_batch`` (forward + backward + Adam update of one batch) and
``model.predict_on_batch`` are timed after warm-up. The candidates are timed interleaved: each
repeat times every candidate once, in a rotating order, so a burst of load on a shared machine
hits all of them alike. Medians, minima and maxima over the repeats are reported, with the
ratios LSTM / GRU (above 1: the GRU is the cheaper) and keras GRU / our GRU (above 1: ours is
faster).

`benchmark_model_speed` is the entry point; it returns a `BenchmarkReport` named
``model_speed``.
"""

from __future__ import annotations

import gc
import logging
import os
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

import keras
import numpy as np

from forecasting.benchmarks.report import BenchmarkReport
from forecasting.benchmarks.speed import Environment, Timing, describe_environment
from forecasting.config import ModelSpec
from forecasting.models.builder import build_forecaster

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ModelShape:
    """One setting: batch B, lookback L, segment w, horizon H, units U, past features F.

    ``period`` is the season of the seasonal-naive skip (default: w); it costs the same for
    every candidate. No calendar features are fed (the decoder reads position embeddings only).
    """

    batch: int
    lookback: int
    segment: int
    horizon: int
    units: int
    features: int = 1
    period: int | None = None
    name: str = ""

    def __post_init__(self):
        values = (self.batch, self.lookback, self.segment, self.horizon, self.units, self.features)
        if min(values) < 1:
            raise ValueError(f"every field of a model shape must be positive, received: {values}")
        if self.segment > self.lookback:
            raise ValueError(f"segment {self.segment} is longer than the lookback {self.lookback}")

    @property
    def values(self) -> tuple[int, int, int, int, int, int]:
        return (self.batch, self.lookback, self.segment, self.horizon, self.units, self.features)

    @property
    def key(self) -> str:
        """``256x96x24x96x256x1``: the shape in MLflow metric names."""
        return "x".join(map(str, self.values))

    @property
    def encoder_steps(self) -> int:
        return self.lookback // self.segment

    @property
    def output_segments(self) -> int:
        return -(-self.horizon // self.segment)

    @property
    def recurrent_shapes(self) -> dict[str, tuple[int, int, int, int]]:
        """(batch, steps, inputs, units) of the recurrent layer's two calls: the encoder over the
        segment embeddings and the one-step decoder over every output segment."""
        u = self.units
        return {
            "encoder": (self.batch, self.encoder_steps, u, u),
            "decoder": (self.batch * self.output_segments, 1, u, u),
        }


# The product's typical shapes.
DEFAULT_SHAPES: tuple[ModelShape, ...] = (
    ModelShape(256, 96, 24, 96, 256, 1, period=24, name="ETTh1"),
    ModelShape(256, 336, 24, 48, 128, 1, period=24, name="hourly panel"),
    ModelShape(256, 104, 26, 13, 64, 1, period=52, name="weekly panel"),
)
QUICK_SHAPES: tuple[ModelShape, ...] = (ModelShape(8, 12, 4, 6, 4, 1, name="quick"),)


@dataclass(frozen=True)
class ModelCandidate:
    key: str
    label: str
    cell: str
    gru_impl: str


CANDIDATES: tuple[ModelCandidate, ...] = (
    ModelCandidate("ours_gru", "GRU: forecasting.layers.GRU (ours, the default)", "gru", "custom"),
    ModelCandidate("keras_gru", "GRU: keras.layers.GRU", "gru", "keras"),
    ModelCandidate("keras_lstm", "LSTM: keras.layers.LSTM", "lstm", "custom"),
)
OURS, KERAS_GRU, LSTM = (c.key for c in CANDIDATES)


@dataclass
class ModelRow:
    """Measurements of one candidate at one shape."""

    setting: str
    shape: tuple[int, int, int, int, int, int]  # (B, L, w, H, U, F)
    implementation: str
    label: str
    params: int  # the whole forecaster
    recurrent_params: int  # its recurrent layer
    kernel: str  # what the recurrent layer ran
    train_step: Timing
    predict: Timing
    train_windows_per_s: float
    predict_windows_per_s: float


@dataclass
class ModelRatios:
    """Ratios of median times at one shape: numerator's time / denominator's time."""

    setting: str
    shape: tuple[int, int, int, int, int, int]
    lstm_over_ours_gru_train: float  # above 1: our GRU trains faster than the LSTM
    lstm_over_ours_gru_predict: float
    lstm_over_keras_gru_train: float  # above 1: keras's GRU trains faster than the LSTM
    lstm_over_keras_gru_predict: float
    keras_gru_over_ours_train: float  # above 1: ours trains faster than keras's GRU
    keras_gru_over_ours_predict: float


@dataclass
class ModelSpeedResult:
    environment: Environment
    shapes: list[dict]
    repeats: int
    warmup: int
    jit_compile: bool  # what Keras's jit_compile="auto" resolved to
    load_average: dict[str, list[float]]  # 1, 5, 15-minute load averages at start and end
    train_step: str
    rows: list[ModelRow] = field(default_factory=list)
    ratios: list[ModelRatios] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


def _load_average() -> list[float]:
    try:
        return [round(v, 2) for v in os.getloadavg()]
    except OSError:  # pragma: no cover - not on Linux
        return []


def _kernel(model: keras.Model, candidate: ModelCandidate, env: Environment) -> str:
    """What the forecaster's recurrent layer runs in training and in inference."""
    rnn = model.get_layer("segment_rnn").rnn
    if candidate.cell == "gru" and candidate.gru_impl == "custom":
        # Our layer's own choice (a mask or non-default settings would fall back to the cell loop).
        train, infer = (rnn._kernel_name(None, training) for training in (True, False))
        train, infer = (k or "generic cell loop" for k in (train, infer))
        return f"{train} (training), {infer} (inference)"
    return "cuDNN when its conditions hold" if env.gpus else "generic (no GPU)"


class _ModelHarness:
    """One compiled forecaster and its batch."""

    def __init__(self, candidate: ModelCandidate, shape: ModelShape, past, future, target, env):
        spec = ModelSpec(units=shape.units, segment=shape.segment, gru_impl=candidate.gru_impl)
        self.candidate = candidate
        self.model = build_forecaster(
            candidate.cell,
            spec,
            shape.lookback,
            shape.horizon,
            shape.features,
            0,
            period=shape.period or shape.segment,
        )
        self.model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="mae")
        self.inputs = {"past": past, "future": future}
        self.target = target
        self.kernel = _kernel(self.model, candidate, env)

    def time_train_step(self) -> float:
        start = time.perf_counter()
        self.model.train_on_batch(self.inputs, self.target)  # returns a float: synchronous
        return time.perf_counter() - start

    def time_predict(self) -> float:
        start = time.perf_counter()
        self.model.predict_on_batch(self.inputs)  # returns a NumPy array: synchronous
        return time.perf_counter() - start


def _batch(shape: ModelShape, seed: int):
    """A random-walk batch with a daily-like cycle: values do not change the timings."""
    rng = np.random.default_rng(seed)
    steps = shape.lookback + shape.horizon
    cycle = np.sin(2 * np.pi * np.arange(steps) / (shape.period or shape.segment))
    walk = np.cumsum(rng.normal(size=(shape.batch, steps, shape.features)), axis=1)
    series = (walk + 3 * cycle[None, :, None]).astype("float32")
    past = series[:, : shape.lookback]
    target = series[:, shape.lookback :, 0]
    future = np.zeros((shape.batch, shape.horizon, 0), "float32")
    return past, future, target


def measure_model_shape(
    shape: ModelShape,
    repeats: int,
    warmup: int,
    env: Environment,
    candidates: Sequence[ModelCandidate] = CANDIDATES,
    seed: int = 0,
) -> tuple[list[ModelRow], ModelRatios | None, bool]:
    """Time every candidate at one shape, interleaved. Returns the rows, the ratios (when all
    three candidates ran) and whether Keras compiled the steps with XLA."""
    past, future, target = _batch(shape, seed)
    harnesses = {}
    for candidate in candidates:
        keras.utils.set_random_seed(seed)
        harnesses[candidate.key] = _ModelHarness(candidate, shape, past, future, target, env)

    for harness in harnesses.values():
        for _ in range(warmup):
            harness.time_train_step()
            harness.time_predict()

    train = {key: [] for key in harnesses}
    predict = {key: [] for key in harnesses}
    order = list(harnesses)
    for repeat in range(repeats):
        shift = repeat % len(order)
        for key in order[shift:] + order[:shift]:
            train[key].append(harnesses[key].time_train_step())
            predict[key].append(harnesses[key].time_predict())

    rows = []
    for key, harness in harnesses.items():
        trn, prd = Timing.of(train[key]), Timing.of(predict[key])
        rows.append(
            ModelRow(
                setting=shape.name,
                shape=shape.values,
                implementation=key,
                label=harness.candidate.label,
                params=int(harness.model.count_params()),
                recurrent_params=int(harness.model.get_layer("segment_rnn").rnn.count_params()),
                kernel=harness.kernel,
                train_step=trn,
                predict=prd,
                train_windows_per_s=shape.batch / (trn.median_ms / 1e3),
                predict_windows_per_s=shape.batch / (prd.median_ms / 1e3),
            )
        )
    jit = all(bool(h.model.jit_compile) for h in harnesses.values())
    del harnesses
    gc.collect()

    by_key = {row.implementation: row for row in rows}
    ratios = None
    if {OURS, KERAS_GRU, LSTM} <= by_key.keys():

        def ratio(num: str, den: str, timing: str) -> float:
            return getattr(by_key[num], timing).median_ms / getattr(by_key[den], timing).median_ms

        ratios = ModelRatios(
            setting=shape.name,
            shape=shape.values,
            lstm_over_ours_gru_train=ratio(LSTM, OURS, "train_step"),
            lstm_over_ours_gru_predict=ratio(LSTM, OURS, "predict"),
            lstm_over_keras_gru_train=ratio(LSTM, KERAS_GRU, "train_step"),
            lstm_over_keras_gru_predict=ratio(LSTM, KERAS_GRU, "predict"),
            keras_gru_over_ours_train=ratio(KERAS_GRU, OURS, "train_step"),
            keras_gru_over_ours_predict=ratio(KERAS_GRU, OURS, "predict"),
        )
    return rows, ratios, jit


def measure_model_speed(
    shapes: Sequence[ModelShape] = DEFAULT_SHAPES, repeats: int = 10, warmup: int = 2
) -> ModelSpeedResult:
    """Measure every candidate at every shape (see the module docstring)."""
    env = describe_environment()
    result = ModelSpeedResult(
        environment=env,
        shapes=[asdict(s) | {"recurrent_shapes": s.recurrent_shapes} for s in shapes],
        repeats=repeats,
        warmup=warmup,
        jit_compile=False,
        load_average={"start": _load_average()},
        train_step=(
            "model.train_on_batch of the whole segment forecaster (forward + backward + Adam "
            "update, MAE loss), compiled by Keras with its default jit_compile"
        ),
    )
    jits = []
    for i, shape in enumerate(shapes, start=1):
        log.info(
            "shape %d/%d %s (B, L, w, H, U, F) = %s: %d repeats of %d forecasters",
            i,
            len(shapes),
            shape.name,
            shape.values,
            repeats,
            len(CANDIDATES),
        )
        rows, ratios, jit = measure_model_shape(shape, repeats, warmup, env)
        result.rows.extend(rows)
        if ratios is not None:
            result.ratios.append(ratios)
        jits.append(jit)
    result.jit_compile = bool(jits) and all(jits)
    result.load_average["end"] = _load_average()
    return result


def _shape_text(shape) -> str:
    return "(" + ", ".join(str(v) for v in shape) + ")"


def _steps_text(row: ModelRow) -> str:
    _, lookback, w, h, _, _ = row.shape
    return f"{lookback // w} → 1 × {-(-h // w)}"


def markdown_table(result: ModelSpeedResult) -> str:
    """Two Markdown tables (times per candidate; ratios per shape), preceded by what ran where."""
    env = result.environment
    load = result.load_average
    lines = [
        f"Device: {env.device}; CPU: {env.cpu} ({env.cpu_count} logical cores); "
        f"TensorFlow {env.tensorflow}, Keras {env.keras}. Load average (1, 5, 15 min) "
        f"{load.get('start')} at the start, {load.get('end')} at the end.",
        f"Training step: {result.train_step}, which resolved to jit_compile={result.jit_compile}. "
        f"Inference: model.predict_on_batch. Median [min–max] ms of {result.repeats} interleaved "
        f"repeats after {result.warmup} warm-up calls.",
        "Kernel: what the recurrent layer ran. Our GRU (implementation='auto') picks its own for "
        "training and for inference (forecasting.layers.gru_kernels.fastest_kernel); "
        f"keras.layers.GRU and LSTM ran the {env.keras_gru_kernel}.",
        "Shape (B, L, w, H, U, F): batch, lookback, segment, horizon, units, past features "
        "(no calendar). Recurrent steps: the encoder's L/w steps, then one decoder step for "
        "each of the ceil(H/w) output segments in parallel.",
        "",
        "| setting | shape (B, L, w, H, U, F) | recurrent steps | implementation | kernel "
        "| params (recurrent) | train step ms | predict ms | train windows/s |",
        "|---|---|---|---|---|---:|---:|---:|---:|",
    ]
    for row in result.rows:
        lines.append(
            f"| {row.setting or '–'} | {_shape_text(row.shape)} | {_steps_text(row)} | {row.label} "
            f"| {row.kernel} | {row.params:,} ({row.recurrent_params:,}) | {str(row.train_step)} "
            f"| {str(row.predict)} | {row.train_windows_per_s:,.0f} |"
        )
    if result.ratios:
        lines += [
            "",
            "Ratios of median times. LSTM / GRU above 1: the GRU is the cheaper, as the rule "
            "assumes. keras GRU / our GRU above 1: ours is faster.",
            "",
            "| setting | shape (B, L, w, H, U, F) | LSTM / our GRU train | LSTM / our GRU predict "
            "| LSTM / keras GRU train | keras GRU / our GRU train | keras GRU / our GRU predict "
            "| GRU cheaper to train |",
            "|---|---|---:|---:|---:|---:|---:|---|",
        ]
        for r in result.ratios:
            cheaper = "yes" if r.lstm_over_ours_gru_train > 1 else "**no**"
            lines.append(
                f"| {r.setting or '–'} | {_shape_text(r.shape)} | {r.lstm_over_ours_gru_train:.2f} "
                f"| {r.lstm_over_ours_gru_predict:.2f} | {r.lstm_over_keras_gru_train:.2f} "
                f"| {r.keras_gru_over_ours_train:.2f} | {r.keras_gru_over_ours_predict:.2f} | {cheaper} |"
            )
    if not env.gpus:
        lines += ["", "No GPU was available, so cuDNN was not measured."]
    return "\n".join(lines) + "\n"


def _metrics(result: ModelSpeedResult) -> dict[str, float]:
    """e.g. ``ours_gru.256x96x24x96x256x1.train_step_ms`` and ``256x96x24x96x256x1.lstm_over_ours_gru_train``."""
    metrics = {}
    for row in result.rows:
        prefix = f"{row.implementation}.{'x'.join(map(str, row.shape))}"
        metrics[f"{prefix}.train_step_ms"] = row.train_step.median_ms
        metrics[f"{prefix}.predict_ms"] = row.predict.median_ms
    for r in result.ratios:
        prefix = "x".join(map(str, r.shape))
        for name, value in asdict(r).items():
            if name not in ("setting", "shape"):
                metrics[f"{prefix}.{name}"] = value
    return metrics


def benchmark_model_speed(
    shapes: Sequence[ModelShape] | None = None, repeats: int = 10, quick: bool = False
) -> BenchmarkReport:
    """Run the segment model's speed benchmark.

    Args:
        shapes: `ModelShape` settings; default `DEFAULT_SHAPES` (`QUICK_SHAPES` with `quick=True`).
        repeats: Timed repeats per candidate and shape (after warm-up).
        quick: Tiny shapes, one repeat, one warm-up call: checks the plumbing, not speed.

    Returns:
        A `BenchmarkReport` named ``model_speed``: the Markdown tables, the `ModelSpeedResult`
        as JSON data, the environment as MLflow params and the medians and ratios as metrics.
    """
    if quick:
        shapes, repeats, warmup = shapes or QUICK_SHAPES, 1, 1
    else:
        shapes, warmup = shapes or DEFAULT_SHAPES, 2
    result = measure_model_speed(shapes, repeats, warmup)
    env = result.environment
    return BenchmarkReport(
        name="model_speed",
        markdown=markdown_table(result),
        data=result.to_dict(),
        params={
            **env.params(),
            "ours_gru_kernel": "; ".join(r.kernel for r in result.rows if r.implementation == OURS),
            "jit_compile": result.jit_compile,
            "repeats": result.repeats,
            "warmup": result.warmup,
            "shapes": ";".join(",".join(map(str, s.values)) for s in shapes),
        },
        tags=env.tags(),
        metrics=_metrics(result),
    )
