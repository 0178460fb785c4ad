"""The ``diagnose`` job: a packaged forecaster and a history file in, gradient-flow and gate plots out.

One call of :func:`diagnose`:

1. resolves the model URI and fetches the packaged forecaster (its Keras model and state,
   read by :mod:`forecasting.packaging.folder`);
2. validates the history against the model's state and cuts each series' latest window
   exactly as a forecast would (`forecasting.windowing.inference.latest_windows`);
3. measures the gradient flow through time of the model's own recurrent layers on those
   windows, beside a SimpleRNN, a GRU and an LSTM probe of the same size trained briefly on
   windows of the same data;
4. reads the update and reset gates of every GRU layer (an LSTM has no such gates: the job
   says so and keeps the gradient-flow plot);
5. writes the PNGs (and the numbers behind them) to the output folder, then logs them under
   ``diagnostics/`` in the run that logged the model, or, if the model has no run in this
   store, in a new run of the experiment ``diagnostics``.
"""

from __future__ import annotations

import json
import logging
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from forecasting.data import TARGET, TIME
from forecasting.errors import DataError, InputError
from forecasting.files import publish
from forecasting.packaging import PackagedState
from forecasting.packaging.history import History, prepare_history

__all__ = ["ARTIFACT_PATH", "EXPERIMENT", "DiagnosisResult", "diagnose"]

log = logging.getLogger(__name__)

EXPERIMENT = "diagnostics"
ARTIFACT_PATH = "diagnostics"
GRADIENT_FLOW_PNG = "gradient_flow.png"
GATES_PNG = "gates.png"
GRADIENT_FLOW_CSV = "gradient_flow.csv"
SUMMARY_JSON = "diagnostics.json"
PROBE_KINDS = ("simple_rnn", "gru", "lstm")
PROBE_LABELS = {"simple_rnn": "SimpleRNN probe", "gru": "GRU probe", "lstm": "LSTM probe"}
MAX_WINDOWS = (
    64  # latest windows the gradient norms are averaged over (the first series, and --series)
)


@dataclass
class DiagnosisResult:
    """What one diagnosis wrote and where it was logged."""

    model_label: str
    family: str
    series: str
    output_dir: Path
    files: list[Path]
    run_id: str
    new_run: bool
    summary: dict
    notes: list[str] = field(default_factory=list)

    @property
    def has_gates(self) -> bool:
        return any(p.name == GATES_PNG for p in self.files)


def _read_history(data: str | Path, state: PackagedState) -> History:
    from forecasting.data.bundled import is_bundled, load_bundled
    from forecasting.data.reading import read_table

    source = str(data)
    raw = load_bundled(source) if is_bundled(source) else read_table(data)
    return prepare_history(raw, state, source)


def _probe_windows(data, lookback: int, horizon: int, limit: int, seed: int):
    """Training windows (past [N, L, F], scaled target [N, H]) cut from ``data``, at most ``limit``."""
    from forecasting.errors import ConfigError
    from forecasting.windowing import WindowSpec, make_windows

    try:
        train = make_windows(data, WindowSpec(lookback=lookback, horizon=horizon)).splits["train"]
    except (ConfigError, DataError) as exc:
        log.info("no probe training windows: %s", exc)
        return None
    if len(train) == 0:
        return None
    rows = np.random.default_rng(seed).permutation(len(train))[:limit]
    probe = train.take(rows)  # gathers only these windows
    return probe.past, probe.target


def _series_index(ids: list[str], series: str | None, source: str) -> int:
    if series is None:
        return 0
    if series not in ids:
        shown = ", ".join(ids[:10]) + (" …" if len(ids) > 10 else "")
        raise DataError(f"{source}: no series {series!r} (series: {shown})")
    return ids.index(series)


def _measured_rows(n_series: int, pick: int) -> list[int]:
    """Rows of the latest windows to measure: the first `MAX_WINDOWS` series, always with ``pick``."""
    rows = list(range(min(n_series, MAX_WINDOWS)))
    if pick not in rows:
        rows[-1] = pick
    return rows


def _units(layer) -> int:
    size = layer.cell.state_size
    return int(size[0] if isinstance(size, (list, tuple)) else size)


def _log_target(client, ref, tracking_uri: str) -> str | None:
    """The model's run if this store has it, else None."""
    if not ref.run_id:
        return None
    try:
        client.get_run(ref.run_id)
    except Exception:  # MlflowException: the run lives in another store
        log.info(
            "run %s of %s is not in %s: logging to a new run", ref.run_id, ref.label, tracking_uri
        )
        return None
    return ref.run_id


def _prepare_output(output: str | Path) -> Path:
    output_dir = Path(output)
    if output_dir.exists() and not output_dir.is_dir():
        raise InputError(f"{output_dir}: --output must be a folder, and this is a file")
    try:
        output_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(
            f"{output_dir}: cannot create the output folder: {exc.strerror or exc}"
        ) from None
    return output_dir


def diagnose(
    model_uri: str,
    data: str | Path,
    output: str | Path,
    tracking_uri: str | None = None,
    series: str | None = None,
    probe_epochs: int = 3,
    probe_windows: int = 1024,
    seed: int = 0,
) -> DiagnosisResult:
    """Gradient-flow and gate diagnostics of the forecaster at ``model_uri`` on ``data``.

    Args:
        model_uri: ``models:/NAME@ALIAS``, ``models:/NAME/VERSION``, ``runs:/RUN_ID/PATH`` or a
            local folder of a packaged forecaster.
        data: CSV or Parquet history in the training file's columns, or ``bundled:city-temps``.
        output: folder for the PNGs, the gradient norms (CSV) and a JSON summary.
        tracking_uri: MLflow store (default: ``$MLFLOW_TRACKING_URI`` or ``./mlruns``).
        series: the series whose window the gate plot shows (default: the first).
        probe_epochs: training epochs of the SimpleRNN/GRU/LSTM probes (0: untrained probes).
        probe_windows: at most this many training windows for the probes.
        seed: seed of the probes' initialisation, window sample and training.

    Returns:
        A :class:`DiagnosisResult` naming the files written and the run they were logged to.

    Raises:
        InputError: a bad model URI, unreadable or unsuitable data, or an unusable output
            folder; nothing is written or logged then.
    """
    from forecasting.tracking.store import use_store

    if probe_epochs < 0 or probe_windows <= 0:
        raise InputError(
            f"probe epochs must be >= 0 and probe windows > 0, received {probe_epochs}, {probe_windows}"
        )
    uri = use_store(tracking_uri)
    job = _load(model_uri, data, series, uri)  # every input check happens here, before any output
    output_dir = _prepare_output(output)
    log.info(
        "diagnosing %s (%s, %d recurrent layer(s)) on the latest %d-step windows of %d series",
        job.ref.label,
        job.family,
        len(job.recurrent),
        job.lookback,
        len(job.latest.ids),
    )

    flow, inputs, notes = _gradient_flow(job, probe_epochs, probe_windows, seed)
    traces = _gates(job, inputs, notes)
    summary = _summary(job, flow, traces, notes, data)
    files = _write_files(job, flow, traces, summary, output_dir)
    run_id, new_run = _log_files(job, files, summary, data, seed, uri)
    log.info("diagnostics of %s logged to run %s under %s/", job.ref.label, run_id, ARTIFACT_PATH)
    return DiagnosisResult(
        job.ref.label, job.family, job.uid, output_dir, files, run_id, new_run, summary, notes
    )


@dataclass
class _Job:
    """A loaded model and the windows it is diagnosed on."""

    ref: object  # forecasting.tracking.model_ref.ModelRef
    state: PackagedState
    model: object  # keras.Model
    recurrent: list
    history: History
    latest: object  # forecasting.windowing.inference.LatestWindows
    rows: list[int]  # rows of ``latest`` that are measured
    pick: int  # index into ``rows`` of the series the gate plot shows

    @property
    def lookback(self) -> int:
        return self.state.lookback

    @property
    def horizon(self) -> int:
        return self.state.horizon

    @property
    def family(self) -> str:
        return self.state.family

    @property
    def uid(self) -> str:
        return self.latest.ids[self.rows[self.pick]]

    @property
    def window(self) -> dict[str, np.ndarray]:
        return {
            key: value[self.rows] for key, value in self.latest.inputs.items()
        }  # [W, L, F], [W, H, K]


def _load(model_uri: str, data, series: str | None, uri: str) -> _Job:
    from forecasting.diagnostics.gates import recurrent_layers
    from forecasting.packaging.folder import keras_path, load_keras, read_state
    from forecasting.tracking.model_ref import fetch_model, resolve_model
    from forecasting.windowing.inference import latest_windows

    ref = resolve_model(model_uri, uri)
    source = f"model URI {ref.uri!r}"
    with tempfile.TemporaryDirectory(prefix="forecast-diagnose-") as tmp:
        model_dir = fetch_model(ref, Path(tmp) / "model")  # mlflow.artifacts.download_artifacts
        state = read_state(model_dir, source)
        if state.is_baseline:
            raise InputError(
                f"{source}: the packaged {state.family.replace('_', ' ')} baseline has no network "
                f"to diagnose; pass a version whose model_family is lstm or gru"
            )
        keras_file = keras_path(model_dir, source)
        history = _read_history(data, state)
        model = load_keras(keras_file, source)
    recurrent = recurrent_layers(model)
    if not recurrent:
        raise InputError(f"{source}: the model has no recurrent layer to diagnose")
    latest = latest_windows(
        history.data, state.lookback, state.horizon, state.fitted_scalers(), state.channels
    )
    chosen = _series_index(latest.ids, series, str(data))
    rows = _measured_rows(len(latest.ids), chosen)
    return _Job(ref, state, model, recurrent, history, latest, rows, rows.index(chosen))


def _gradient_flow(job: _Job, probe_epochs: int, probe_windows: int, seed: int):
    """The model's own layers on the windows a forecast reads, beside the three probes."""
    from forecasting.diagnostics.gates import layer_inputs
    from forecasting.diagnostics.gradient_flow import gradient_flow, train_probe

    window = job.window
    inputs = layer_inputs(job.model, job.recurrent, window)  # name -> [W, L, D_k]
    layers = {f"{layer.name} (this model)": layer for layer in job.recurrent}
    sequences = {label: inputs[layer.name] for label, layer in layers.items()}
    units = _units(job.recurrent[0])
    notes = []
    probe_data = (
        _probe_windows(job.history.data, job.lookback, job.horizon, probe_windows, seed)
        if probe_epochs
        else None
    )
    if probe_epochs and probe_data is None:
        notes.append("probes untrained: the data is too short to cut training windows")
    if probe_data is None:
        probe_data, epochs = (window["past"], np.zeros((len(job.rows), job.horizon))), 0
    else:
        epochs = probe_epochs
    x_probe, y_probe = probe_data
    for kind in PROBE_KINDS:  # same size, same data; gated probes start with chrono gate biases
        probe = train_probe(
            kind, x_probe, y_probe, units, epochs=epochs, seed=seed, memory=job.lookback
        )
        layers[PROBE_LABELS[kind]] = probe.get_layer("recurrent")
        sequences[PROBE_LABELS[kind]] = window["past"]
    flow = gradient_flow(layers, sequences)
    flow.notes.append(
        f"probes: {units} units, {epochs} epoch(s) on {len(x_probe)} windows; "
        f"gated probes chrono-initialised up to {job.lookback} steps"
    )
    return flow, inputs, notes


def _gates(job: _Job, inputs: dict[str, np.ndarray], notes: list[str]) -> dict:
    from forecasting.diagnostics.gates import gru_layers, read_gates

    grus = gru_layers(job.model)
    if not grus:
        notes.append(
            f"gates are GRU-only: this model's recurrent layers are {job.family.upper()}; "
            "only the gradient-flow plot was made"
        )
        log.info("%s", notes[-1])
    return {layer.name: read_gates(layer, inputs[layer.name]) for layer in grus}


def _target_window(job: _Job):
    part = job.history.data.series(job.uid)
    return part[TARGET].to_numpy()[-job.lookback :], part[TIME].iloc[-job.lookback :].to_numpy()


def _summary(job: _Job, flow, traces: dict, notes: list[str], data) -> dict:
    _, times = _target_window(job)
    return {
        "model_uri": job.ref.uri,
        "model": job.ref.label,
        "family": job.family,
        "data": str(data),
        "series": job.uid,
        "window_end": pd.Timestamp(times[-1]).isoformat(),
        "lookback": job.lookback,
        "windows_measured": len(job.rows),
        "far_gradient_norm": {label: flow.far_mean(label) for label in flow.norms},
        "gates": {name: trace.summary() for name, trace in traces.items()},
        "notes": list(notes) + list(flow.notes),
    }


def _write_files(job: _Job, flow, traces: dict, summary: dict, output_dir: Path) -> list[Path]:
    """Draw and write everything in a hidden staging folder, then rename each file into place."""
    from forecasting.diagnostics.gates import plot_gates
    from forecasting.diagnostics.gradient_flow import plot_gradient_flow

    own = tuple(label for label in flow.norms if label.endswith("(this model)"))
    values, times = _target_window(job)
    with tempfile.TemporaryDirectory(prefix=".diagnose-", dir=output_dir) as staging:
        staging = Path(staging)
        plot_gradient_flow(
            staging / GRADIENT_FLOW_PNG,
            flow,
            highlight=own,
            title=f"Gradient flow through time: {job.ref.label} on {len(job.rows)} window(s)",
        )
        flow.to_frame().to_csv(staging / GRADIENT_FLOW_CSV)
        if traces:
            plot_gates(
                staging / GATES_PNG,
                values,
                traces,
                sample=job.pick,
                times=[str(t)[:16] for t in times],
                series_label=f"{job.uid}\n"
                f"{job.history.data.channels.get(job.uid, job.state.columns.target)}",
                title=f"GRU gates of {job.ref.label}, series {job.uid!r}",
            )
        (staging / SUMMARY_JSON).write_text(json.dumps(summary, indent=1, default=str))
        return publish(staging, output_dir)


def _log_files(
    job: _Job, files: list[Path], summary: dict, data, seed: int, uri: str
) -> tuple[str, bool]:
    """Log under ``diagnostics/`` in the model's run, or in a new run of the experiment ``diagnostics``."""
    import mlflow

    from forecasting.tracking.runs import tracked_run
    from forecasting.tracking.store import ensure_experiment

    client = mlflow.MlflowClient(tracking_uri=uri)
    run_id = _log_target(client, job.ref, uri)
    if run_id is not None:
        for path in files:
            client.log_artifact(run_id, str(path), ARTIFACT_PATH)
        return run_id, False
    experiment_id = ensure_experiment(EXPERIMENT, uri)
    with tracked_run(
        experiment_id=experiment_id, run_name=f"diagnose {_short(job.ref.label)}"
    ) as run:
        mlflow.set_tags(
            {"model_uri": job.ref.uri, "model_family": job.family, "role": "diagnostics"}
        )
        mlflow.log_params(
            {"model_uri": job.ref.uri, "data": str(data), "series": job.uid, "seed": seed}
        )
        mlflow.log_metrics(
            {
                f"far_grad_{_key(k)}": v
                for k, v in summary["far_gradient_norm"].items()
                if np.isfinite(v)
            }
        )
        for path in files:
            mlflow.log_artifact(str(path), ARTIFACT_PATH)
        return run.info.run_id, True


def _key(label: str) -> str:
    return re.sub(r"[^0-9a-zA-Z_]+", "_", label).strip("_").lower()


def _short(label: str, width: int = 80) -> str:
    return label if len(label) <= width else "…" + label[-(width - 1) :]
