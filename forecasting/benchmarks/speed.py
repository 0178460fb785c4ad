"""`forecast benchmark speed`: our GRU against keras.layers.GRU and LSTM, side by side.

`benchmark_speed` is the entry point: it measures, renders the Markdown table and returns a
`BenchmarkReport` (see `forecasting.benchmarks.report`) with the ratios as MLflow metrics.

Every implementation gets the same fixed model (the recurrent layer's last output -> Dense(1),
mean squared error, SGD) at the same shape. Forward (inference) and training-step times
(forward + backward + SGD update) are taken interleaved: each repeat times every
implementation once, in a rotating order, so that a burst of load on a shared machine hits all
of them alike. Medians, minima and maxima over the repeats are reported after warm-up.
"""

from __future__ import annotations

import logging
import os
import platform
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field

import keras
import numpy as np
import tensorflow as tf

from forecasting.benchmarks.report import BenchmarkReport
from forecasting.layers import GRU, GRUCell

log = logging.getLogger(__name__)

# (batch, steps, inputs, units): the product's typical training shapes. The first three are
# pointwise recurrences over the lookback; the last two are the default segment model's
# encoder (forecasting.models.segment), which reads L/w segment embeddings of width U:
# ETTh1 (L 96, w 24, U 256) and an hourly panel (L 336, w 24, U 128). The whole forecaster
# at those shapes is `forecast benchmark model`.
DEFAULT_SHAPES: tuple[tuple[int, int, int, int], ...] = (
    (256, 64, 8, 64),
    (64, 168, 8, 128),
    (256, 48, 1, 256),
    (256, 4, 256, 256),
    (256, 14, 128, 128),
)
QUICK_SHAPES: tuple[tuple[int, int, int, int], ...] = ((8, 6, 3, 4),)
REFERENCE = "keras_gru"  # what ratios and parity are measured against


@dataclass(frozen=True)
class Candidate:
    """One implementation under test."""

    key: str
    label: str
    make_layer: Callable[[int], keras.layers.Layer]
    flops_factor: int  # FLOPs per sample per step = flops_factor · H · (D + H)
    is_ours: bool = False


def default_candidates(gpu: bool, extra_implementations: Sequence[str] = ()) -> list[Candidate]:
    """Ours via RNN(GRUCell), ours via GRU, keras GRU and LSTM; cuDNN GRU on a GPU."""
    candidates = [
        Candidate(
            "ours_cell",
            "ours: keras.layers.RNN(GRUCell)",
            lambda h: keras.layers.RNN(GRUCell(h)),
            6,
            is_ours=True,
        ),
        Candidate("ours_gru", "ours: forecasting.layers.GRU", lambda h: GRU(h), 6, is_ours=True),
    ]
    for name in extra_implementations:
        candidates.append(
            Candidate(
                f"ours_gru[{name}]",
                f'ours: GRU(implementation="{name}")',
                lambda h, name=name: GRU(h, implementation=name),
                6,
                is_ours=True,
            )
        )
    candidates += [
        Candidate(
            REFERENCE,
            "keras.layers.GRU" + ("" if gpu else " (generic kernel)"),
            # On a GPU "auto" would pick cuDNN; keep the reference on the generic kernel there
            # too and measure cuDNN separately.
            lambda h: keras.layers.GRU(h, use_cudnn=False) if gpu else keras.layers.GRU(h),
            6,
        ),
        Candidate("keras_lstm", "keras.layers.LSTM", lambda h: keras.layers.LSTM(h), 8),
    ]
    if gpu:
        candidates.append(
            Candidate(
                "keras_gru_cudnn",
                "keras.layers.GRU(use_cudnn=True)",
                lambda h: keras.layers.GRU(h, use_cudnn=True),
                6,
            )
        )
    return candidates


@dataclass
class Timing:
    median_ms: float
    min_ms: float
    max_ms: float

    @classmethod
    def of(cls, seconds: Sequence[float]) -> Timing:
        ms = np.asarray(seconds) * 1e3
        return cls(float(np.median(ms)), float(ms.min()), float(ms.max()))

    def __str__(self) -> str:
        """``median [min–max]`` in milliseconds, as the tables show it."""
        return f"{self.median_ms:.1f} [{self.min_ms:.1f}–{self.max_ms:.1f}]"


@dataclass
class Row:
    """Measurements of one implementation at one shape."""

    shape: tuple[int, int, int, int]
    implementation: str
    label: str
    params: int
    forward: Timing
    train_step: Timing
    forward_windows_per_s: float
    train_windows_per_s: float
    forward_gflops: float
    train_gflops: float
    forward_ratio_vs_keras: float | None = None  # keras time / this time (> 1: faster)
    train_ratio_vs_keras: float | None = None
    max_abs_diff_output: float | None = None  # vs keras.layers.GRU with the same weights
    max_abs_diff_grad: float | None = None
    max_rel_diff_grad: float | None = None


@dataclass
class Environment:
    device: str
    cpu: str
    cpu_count: int | None
    gpus: list[str]
    cudnn_available: bool
    keras_gru_kernel: str
    tensorflow: str
    keras: str
    python: str
    platform: str

    def params(self) -> dict:
        """The machine and library versions, as MLflow params of a benchmark run."""
        return {
            "device": self.device,
            "cpu": self.cpu,
            "cpu_count": self.cpu_count,
            "tensorflow": self.tensorflow,
            "keras": self.keras,
            "keras_gru_kernel": self.keras_gru_kernel,
        }

    def tags(self) -> dict[str, str]:
        return {
            "device": self.device,
            "keras_gru_kernel": self.keras_gru_kernel,
            "cudnn_available": str(self.cudnn_available),
        }


@dataclass
class SpeedResult:
    environment: Environment
    shapes: list[tuple[int, int, int, int]]
    repeats: int
    warmup: int
    xla: bool
    train_step: str
    flops_note: str
    rows: list[Row] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


def _cpu_name() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def describe_environment() -> Environment:
    gpus = [d.name for d in tf.config.list_physical_devices("GPU")]
    return Environment(
        device=f"GPU ({', '.join(gpus)})" if gpus else "CPU",
        cpu=_cpu_name(),
        cpu_count=os.cpu_count(),
        gpus=gpus,
        cudnn_available=bool(gpus) and tf.test.is_built_with_cuda(),
        keras_gru_kernel=(
            "cuDNN (default arguments on a GPU)"
            if gpus
            else "generic tf.while_loop kernel (no GPU, so cuDNN was not available)"
        ),
        tensorflow=tf.__version__,
        keras=keras.__version__,
        python=platform.python_version(),
        platform=platform.platform(),
    )


class _Harness:
    """A compiled forward and training step around one recurrent layer."""

    def __init__(self, candidate: Candidate, shape, x, y, xla: bool = False):
        _, steps, inputs, units = shape
        self.candidate = candidate
        self.layer = candidate.make_layer(units)
        sequence = keras.Input((steps, inputs))
        self.model = keras.Model(sequence, keras.layers.Dense(1)(self.layer(sequence)))
        self.optimizer = keras.optimizers.SGD(learning_rate=1e-3)
        self.optimizer.build(self.model.trainable_variables)
        self.x, self.y = x, y
        self.forward = tf.function(self._forward, jit_compile=xla)
        self.train_step = tf.function(self._train_step, jit_compile=xla)

    def _forward(self, x):
        return self.model(x, training=False)

    def _loss(self, x, y):
        return tf.reduce_mean(tf.square(self.model(x, training=True) - y))

    def _train_step(self, x, y):
        with tf.GradientTape() as tape:
            loss = self._loss(x, y)
        variables = self.model.trainable_variables
        self.optimizer.apply(tape.gradient(loss, variables), variables)
        return loss

    def time_forward(self) -> float:
        start = time.perf_counter()
        self.forward(self.x).numpy()
        return time.perf_counter() - start

    def time_train_step(self) -> float:
        start = time.perf_counter()
        self.train_step(self.x, self.y).numpy()
        return time.perf_counter() - start

    def outputs_and_gradients(self):
        """The layer's outputs and the gradients of the loss, for parity checks."""
        x = tf.constant(self.x)
        with tf.GradientTape() as tape:
            tape.watch(x)
            outputs = self.layer(x)
            loss = self._loss(x, self.y)
        grads = tape.gradient(loss, [x, *self.layer.trainable_variables])
        return np.asarray(outputs), [np.asarray(g) for g in grads]


def _parity(ours: _Harness, ref: _Harness) -> tuple[float, float, float]:
    out_a, grads_a = ours.outputs_and_gradients()
    out_b, grads_b = ref.outputs_and_gradients()
    out_diff = float(np.max(np.abs(out_a - out_b)))
    grad_diff = max(float(np.max(np.abs(a - b))) for a, b in zip(grads_a, grads_b, strict=True))
    rel = max(
        float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-12))
        for a, b in zip(grads_a, grads_b, strict=True)
    )
    return out_diff, grad_diff, rel


def measure_shape(
    shape: tuple[int, int, int, int],
    candidates: Sequence[Candidate],
    repeats: int,
    warmup: int,
    seed: int = 0,
    xla: bool = False,
) -> list[Row]:
    """Time every candidate at one shape, interleaved; parity of ours against keras GRU."""
    batch, steps, inputs, units = shape
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(batch, steps, inputs)).astype("float32")
    y = rng.normal(size=(batch, 1)).astype("float32")
    keras.utils.set_random_seed(seed)
    harnesses = {c.key: _Harness(c, shape, x, y, xla) for c in candidates}

    reference = harnesses.get(REFERENCE)
    parity = {}
    if reference is not None:
        for key, harness in harnesses.items():
            if harness.candidate.is_ours:
                # Same weights as the reference, Dense head included.
                harness.model.set_weights(reference.model.get_weights())
                parity[key] = _parity(harness, reference)

    for harness in harnesses.values():
        for _ in range(warmup):
            harness.time_forward()
            harness.time_train_step()

    forward = {key: [] for key in harnesses}
    train = {key: [] for key in harnesses}
    order = list(harnesses)
    for repeat in range(repeats):
        shift = repeat % len(order)
        for key in order[shift:] + order[:shift]:
            forward[key].append(harnesses[key].time_forward())
            train[key].append(harnesses[key].time_train_step())

    flops_per_unit = batch * steps * units * (inputs + units)
    rows = []
    for key, harness in harnesses.items():
        fwd, trn = Timing.of(forward[key]), Timing.of(train[key])
        flops = harness.candidate.flops_factor * flops_per_unit
        row = Row(
            shape=shape,
            implementation=key,
            label=harness.candidate.label,
            params=int(harness.layer.count_params()),
            forward=fwd,
            train_step=trn,
            forward_windows_per_s=batch / (fwd.median_ms / 1e3),
            train_windows_per_s=batch / (trn.median_ms / 1e3),
            forward_gflops=flops / (fwd.median_ms / 1e3) / 1e9,
            # forward + backward ≈ 3 × the forward FLOPs (two matmuls back per matmul forward)
            train_gflops=3 * flops / (trn.median_ms / 1e3) / 1e9,
        )
        if key in parity:
            row.max_abs_diff_output, row.max_abs_diff_grad, row.max_rel_diff_grad = parity[key]
        rows.append(row)
    if reference is not None:
        ref_row = next(r for r in rows if r.implementation == REFERENCE)
        for row in rows:
            row.forward_ratio_vs_keras = ref_row.forward.median_ms / row.forward.median_ms
            row.train_ratio_vs_keras = ref_row.train_step.median_ms / row.train_step.median_ms
    return rows


def measure_gru_speed(
    shapes: Sequence[tuple[int, int, int, int]] = DEFAULT_SHAPES,
    repeats: int = 10,
    warmup: int = 2,
    extra_implementations: Sequence[str] = (),
    xla: bool = False,
) -> SpeedResult:
    """Measure every implementation at every shape (see the module docstring).

    With `xla=True` the forward and the training step are compiled with XLA
    (`jit_compile=True`), as `model.fit` does by default on a CPU with TensorFlow.
    """
    environment = describe_environment()
    candidates = default_candidates(bool(environment.gpus), extra_implementations)
    result = SpeedResult(
        environment=environment,
        shapes=[tuple(s) for s in shapes],
        repeats=repeats,
        warmup=warmup,
        xla=xla,
        train_step=(
            "forward + backward + SGD update of Input -> RNN layer (last output) -> Dense(1), "
            "MSE loss, one tf.function per implementation "
            + ("compiled with XLA (jit_compile=True)" if xla else "(graph mode, no XLA)")
        ),
        flops_note=(
            "forward FLOPs per sample per step: 6·H·(D+H) for a GRU, 8·H·(D+H) for an LSTM; "
            "training step counted as 3× the forward FLOPs"
        ),
    )
    for i, shape in enumerate(shapes, start=1):
        log.info(
            "shape %d/%d (batch, steps, inputs, units) = %s: %d repeats of %d implementations",
            i,
            len(shapes),
            tuple(shape),
            repeats,
            len(candidates),
        )
        result.rows.extend(measure_shape(tuple(shape), candidates, repeats, warmup, xla=xla))
    return result


def _ratio(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}"


def _diff(row: Row) -> str:
    if row.max_abs_diff_output is None:
        return "–"
    return f"{row.max_abs_diff_output:.1e} / {row.max_abs_diff_grad:.1e}"


def markdown_table(result: SpeedResult) -> str:
    """The measurements as one Markdown table, preceded by what was run where."""
    env = result.environment
    lines = [
        f"Device: {env.device}; CPU: {env.cpu} ({env.cpu_count} logical cores); "
        f"TensorFlow {env.tensorflow}, Keras {env.keras}.",
        f"keras.layers.GRU ran the {env.keras_gru_kernel}.",
        f"Median [min–max] of {result.repeats} interleaved repeats after {result.warmup} "
        f"warm-up calls. Training step: {result.train_step}. GFLOP/s: {result.flops_note}. "
        "Ratios are keras.layers.GRU's median time / this row's (above 1: faster than Keras). "
        "|Δ| is the max abs difference from keras.layers.GRU with the same weights "
        "(layer outputs / gradients).",
        "",
        "| shape (B, T, D, H) | implementation | params | forward ms | train step ms "
        "| train windows/s | GFLOP/s fwd | GFLOP/s train | keras/ours fwd | keras/ours train "
        "| max abs Δ out / grad |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in result.rows:
        shape = "(" + ", ".join(str(v) for v in row.shape) + ")"
        lines.append(
            f"| {shape} | {row.label} | {row.params:,} | {str(row.forward)} "
            f"| {str(row.train_step)} | {row.train_windows_per_s:,.0f} "
            f"| {row.forward_gflops:.1f} | {row.train_gflops:.1f} "
            f"| {_ratio(row.forward_ratio_vs_keras)} | {_ratio(row.train_ratio_vs_keras)} "
            f"| {_diff(row)} |"
        )
    if not env.gpus:
        lines += ["", "No GPU was available, so cuDNN was not measured."]
    return "\n".join(lines) + "\n"


def _metrics(result: SpeedResult) -> dict[str, float]:
    """Median times and ratios per implementation and shape, e.g. ``ours_gru.256x64x8x64.train_step_ms``."""
    metrics = {}
    for row in result.rows:
        prefix = f"{row.implementation}.{'x'.join(map(str, row.shape))}"
        prefix = prefix.replace("[", "_").replace("]", "")
        metrics[f"{prefix}.forward_ms"] = row.forward.median_ms
        metrics[f"{prefix}.train_step_ms"] = row.train_step.median_ms
        if row.train_ratio_vs_keras is not None:
            metrics[f"{prefix}.train_ratio_vs_keras"] = row.train_ratio_vs_keras
            metrics[f"{prefix}.forward_ratio_vs_keras"] = row.forward_ratio_vs_keras
    return metrics


def benchmark_speed(
    shapes: Sequence[tuple[int, int, int, int]] | None = None,
    repeats: int = 10,
    quick: bool = False,
    extra_implementations: Sequence[str] = (),
    xla: bool = False,
) -> BenchmarkReport:
    """Run the GRU speed benchmark.

    Args:
        shapes: (batch, steps, inputs, units) tuples; default `DEFAULT_SHAPES`
            (`QUICK_SHAPES` with `quick=True`).
        repeats: Timed repeats per implementation and shape (after warm-up).
        quick: Tiny shapes, one repeat, one warm-up call: checks the plumbing, not speed.
        extra_implementations: Further `forecasting.layers.GRU(implementation=...)` values to
            measure beside the default one.
        xla: Compile the forward and the training step with XLA, as `model.fit` does by
            default; otherwise plain graph mode.

    Returns:
        A `BenchmarkReport` named ``gru_speed``: the Markdown table, the `SpeedResult` as
        JSON data, the environment as MLflow params and the medians and ratios as metrics.
    """
    if quick:
        shapes, repeats, warmup = shapes or QUICK_SHAPES, 1, 1
    else:
        shapes, warmup = shapes or DEFAULT_SHAPES, 2
    result = measure_gru_speed(shapes, repeats, warmup, extra_implementations, xla)
    env = result.environment
    return BenchmarkReport(
        name="gru_speed",
        markdown=markdown_table(result),
        data=result.to_dict(),
        params={
            **env.params(),
            "repeats": result.repeats,
            "warmup": result.warmup,
            "xla": result.xla,
            "shapes": ";".join(",".join(map(str, s)) for s in result.shapes),
        },
        tags=env.tags(),
        metrics=_metrics(result),
    )
