"""Batch predictions: a registered forecaster, a history file in, the next H steps per series out.

One call of :func:`predict_batch` is one MLflow run in the experiment
``batch-predictions``:

1. resolve the model URI (an alias becomes its version) and fetch the model's files;
2. validate the input against the packaged model's state
   (:func:`forecasting.packaging.history.prepare_history`): the columns it was trained with,
   its frequency, at least ``lookback`` points per series after the ``as_of`` cut
   (series it never saw are fine: the model does not use series identity);
3. score with the packaged pyfunc, in this process or on Spark;
4. write the forecast (CSV or Parquet by extension) and its lineage sidecar
   ``<output>.lineage.json`` atomically.

Bad input fails in step 1 or 2, before anything is written; the run then ends FAILED
with the reason. The forecast file holds no creation time, so the same command on the
same data gives the same bytes.
"""

from __future__ import annotations

import logging
import sys
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from forecasting.config import parse_levels
from forecasting.data import ID, Columns
from forecasting.data.reading import read_table, sniff_separator
from forecasting.errors import InputError
from forecasting.files import sha256_file, write_json
from forecasting.packaging import FORECASTER, Y_HAT, PackagedState
from forecasting.packaging.folder import read_state
from forecasting.packaging.history import History, prepare_history
from forecasting.packaging.intervals import PARAM, requested_levels
from forecasting.packaging.layout import TARGET_COLUMN, interval_columns, lineage_path_for
from forecasting.serving.output import output_format, write_frame
from forecasting.serving.stale import LISTED, Stale, describe, find_stale, without_stale
from forecasting.tracking.model_ref import ModelRef, fetch_model, resolve_model

log = logging.getLogger(__name__)

EXPERIMENT = "batch-predictions"
ENGINES = ("local", "spark")


@dataclass
class BatchResult:
    output: Path
    lineage_path: Path
    lineage: dict
    forecast: pd.DataFrame
    run_id: str

    @property
    def rows(self) -> int:
        return len(self.forecast)


@dataclass
class BatchAttempt:
    """One batch prediction: its result or the error it failed with, and its MLflow run."""

    run_id: str | None  # None if it failed before its run started (e.g. an unsupported output type)
    result: BatchResult | None = None
    error: Exception | None = None


def parse_as_of(value: str | datetime | pd.Timestamp | None) -> pd.Timestamp | None:
    """``--as-of`` as a timestamp; time-zone aware when the text has an offset."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        stamp = pd.Timestamp(value.strip() if isinstance(value, str) else value)
    except (ValueError, TypeError):
        raise InputError(
            f"--as-of {value!r}: not a timestamp (example: 2024-01-31T00:00)"
        ) from None
    if pd.isna(stamp):
        raise InputError(f"--as-of {value!r}: not a timestamp (example: 2024-01-31T00:00)")
    return stamp


def tidy_forecast(
    forecast: pd.DataFrame, columns: Columns, levels: tuple[int, ...] = ()
) -> pd.DataFrame:
    """Id, time, ``y_hat``, the bounds of each interval level in ``levels`` (and ``forecaster``
    where the model says which forecaster made each row) in a fixed order and dtypes, whatever
    engine produced them."""
    id_col = columns.id if columns.id in forecast.columns else ID
    keys = [id_col] + ([TARGET_COLUMN] if TARGET_COLUMN in forecast.columns else [])
    out = pd.DataFrame(
        {
            **{k: forecast[k].astype(str).to_numpy() for k in keys},
            columns.time: pd.to_datetime(forecast[columns.time])
            .astype("datetime64[ns]")
            .to_numpy(),
            Y_HAT: forecast[Y_HAT].astype(np.float64).to_numpy(),
        }
    )
    for level in levels:
        for name in interval_columns(level):
            out[name] = forecast[name].astype(np.float64).to_numpy()
    if FORECASTER in forecast.columns and forecast[FORECASTER].astype(str).str.len().gt(0).any():
        out[FORECASTER] = forecast[FORECASTER].astype(str).to_numpy()
    return out.sort_values([*keys, columns.time], kind="stable").reset_index(drop=True)


def score_local(model_dir: Path, history: History, levels: tuple[int, ...] = ()) -> pd.DataFrame:
    """The packaged pyfunc's forecast of ``history``, with the intervals of ``levels``."""
    import mlflow

    # Loading prepends the model's code folder to sys.path; this package is already imported,
    # and the folder is deleted after the run, so a long-lived scheduler should not keep it.
    saved = list(sys.path)
    try:
        model = mlflow.pyfunc.load_model(str(model_dir))
        return model.predict(history.frame, params={PARAM: list(levels)} if levels else None)
    finally:
        sys.path[:] = saved


def _read_input(data: str | Path, sep: str | None = None) -> tuple[pd.DataFrame, str]:
    """The history as a table (a CSV's separator sniffed unless given) and its checksum."""
    if sep is None and Path(data).suffix.lower() == ".csv" and Path(data).is_file():
        sep = sniff_separator(Path(data))
    raw = read_table(data, sep=sep)
    return raw, sha256_file(data)


def _lineage(
    ref: ModelRef,
    data: Path,
    input_sha: str,
    as_of,
    history: History,
    state: PackagedState,
    engine: str,
    output: Path,
    output_sha: str,
    forecast: pd.DataFrame,
    run_id: str,
    stale: Stale,
    drop_stale: bool,
    levels: tuple[int, ...] = (),
) -> dict:
    from forecasting import __version__

    by_fallback = []
    if FORECASTER in forecast.columns and state.fallback is not None:
        by_fallback = sorted(
            map(str, forecast.loc[forecast[FORECASTER] == state.fallback].iloc[:, 0].unique())
        )
    return {
        "model_uri": ref.uri,
        "model_resolved_uri": ref.load_uri,
        "model_name": ref.name,
        "model_version": ref.version,
        "model_run_id": ref.run_id,
        "model_alias": ref.alias,
        "input_path": str(data.resolve()),
        "input_sha256": input_sha,
        "as_of": as_of.isoformat() if as_of is not None else None,
        "history_end": history.end.isoformat(),
        "horizon": state.horizon,
        "lookback": state.lookback,
        "interval_levels": list(levels),
        "engine": engine,
        "output_path": str(output.resolve()),
        "output_sha256": output_sha,
        "rows": len(forecast),
        "series": int(forecast.iloc[:, 0].nunique()),
        "fallback": state.fallback,
        "series_by_fallback": len(by_fallback),
        "series_by_fallback_ids": by_fallback[:20],
        "stale_before": stale.before.isoformat(),
        "stale_series": len(stale.ids),
        "stale_series_ids": stale.ids[:LISTED],
        "stale_dropped": drop_stale and bool(stale.ids),
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "package_version": __version__,
        "batch_run_id": run_id,
    }


def predict_batch(model_uri: str, data: str | Path, output: str | Path, **options) -> BatchResult:
    """Forecast the next H steps of every series in ``data`` with the model at ``model_uri``.

    The keyword options are those of :func:`attempt_batch`, which this calls.

    Args:
        model_uri: ``models:/NAME@ALIAS``, ``models:/NAME/VERSION``, ``runs:/...`` or a local folder.
        data: CSV or Parquet history in long format, with the training file's column names.
        output: ``.csv`` or ``.parquet`` path; its lineage goes to ``<output>.lineage.json``.
        as_of: cut the history at this time (inclusive), e.g. for backfills.
        engine: ``local`` (this process) or ``spark`` (one pandas group per series).
        spark_master: Spark master URL for the spark engine (default ``local[*]``).
        tracking_uri: MLflow store with the model registry and the ``batch-predictions`` runs.
        tags: extra tags for the MLflow run (the scheduler adds the schedule's name).
        levels: prediction-interval levels, ``"80,95"`` or a list of integers in 1..99
            (``""``: none); default the model's (see :mod:`forecasting.packaging.intervals`).
        drop_stale: leave out series whose last point is more than one horizon before the
            as-of time (``as_of``, else the history's end); they are always warned about
            and listed in the lineage.
        reading: how to read ``data``: ``sep`` (default sniffed), ``dayfirst`` and
            ``date_format`` (as :func:`forecasting.data.load_series` takes them).

    Returns:
        A :class:`BatchResult` with the forecast frame, the paths written and the lineage.

    Raises:
        InputError: bad URI, unreadable or invalid data, unsupported output type, a bad interval
            level (or levels asked of a model without intervals); nothing is
            written at ``output`` and the MLflow run ends FAILED with the reason.
    """
    attempt = attempt_batch(model_uri, data, output, **options)
    if attempt.error is not None:
        raise attempt.error
    return attempt.result


def attempt_batch(
    model_uri: str,
    data: str | Path,
    output: str | Path,
    as_of: str | datetime | pd.Timestamp | None = None,
    engine: str = "local",
    spark_master: str | None = None,
    tracking_uri: str | None = None,
    tags: dict[str, str] | None = None,
    levels: str | list[int] | tuple[int, ...] | None = None,
    drop_stale: bool = False,
    reading: dict | None = None,
) -> BatchAttempt:
    """:func:`predict_batch` for a caller that records failures itself (the scheduler).

    The arguments are documented at :func:`predict_batch`. An error comes back in the
    :class:`BatchAttempt`, beside the MLflow run it ended FAILED; an interruption
    (``KeyboardInterrupt``) is raised.
    """
    from forecasting.tracking.runs import sigterm_as_interrupt, tracked_run
    from forecasting.tracking.store import ensure_experiment, use_store

    run_id = None
    try:
        output, data = Path(output), Path(data)
        output_format(output)
        if engine not in ENGINES:
            raise InputError(f"--engine {engine!r}: expected one of {', '.join(ENGINES)}")
        as_of = parse_as_of(as_of)
        if isinstance(levels, str):
            levels = parse_levels(levels, "--levels")
        uri = use_store(tracking_uri)
        experiment_id = ensure_experiment(EXPERIMENT, uri)
        with (
            sigterm_as_interrupt(),
            tracked_run(experiment_id=experiment_id, run_name="predict") as run,
        ):
            run_id = run.info.run_id
            result = _predict_in_run(
                run_id,
                model_uri,
                data,
                output,
                as_of,
                engine,
                spark_master,
                uri,
                tags,
                drop_stale,
                levels,
                reading or {},
            )
    except Exception as exc:
        return BatchAttempt(run_id, error=exc)
    return BatchAttempt(run_id, result=result)


def _predict_in_run(
    run_id,
    model_uri,
    data,
    output,
    as_of,
    engine,
    spark_master,
    uri,
    tags,
    drop_stale,
    levels=None,
    reading=None,
) -> BatchResult:
    import mlflow

    mlflow.set_tags({"engine": engine, **(tags or {})})
    mlflow.log_params(
        {
            "model_uri": model_uri,
            "data": str(data),
            "output": str(output),
            "engine": engine,
            "as_of": as_of.isoformat() if as_of is not None else "",
            "levels": "" if levels is None else ",".join(map(str, levels)),
        }
    )
    ref = resolve_model(model_uri, uri)
    mlflow.set_tag("mlflow.runName", f"predict {ref.label}")
    reading = reading or {}
    raw, input_sha = _read_input(data, reading.get("sep"))
    with tempfile.TemporaryDirectory(prefix="forecast-predict-") as tmp:
        model_dir = fetch_model(ref, Path(tmp) / "model")
        state = read_state(model_dir, f"model URI {model_uri!r}")
        levels = requested_levels(state, levels, "--levels")
        history = prepare_history(
            raw,
            state,
            str(data),
            as_of,
            dayfirst=reading.get("dayfirst"),
            date_format=reading.get("date_format"),
        )
        stale = find_stale(history, state.horizon, state.freq, as_of)
        if stale.ids:
            skip = "skipped (--drop-stale)" if drop_stale else "--drop-stale skips them"
            log.warning("%s: %s; %s", data, describe(stale), skip)
        if drop_stale and stale.ids:
            history = without_stale(history, stale, str(data))
        log.info(
            "%s: %d series up to %s; forecasting %d steps with %s (%s engine)",
            data,
            len(history.data.ids),
            history.end,
            state.horizon,
            ref.label,
            engine,
        )
        if engine == "spark":
            from forecasting.serving.spark import score_with_spark

            raw_forecast = score_with_spark(
                model_dir, history.frame, history.columns, Path(tmp), spark_master, levels
            )
        else:
            raw_forecast = score_local(model_dir, history, levels)
    forecast = tidy_forecast(raw_forecast, history.columns, levels)
    lineage_path = lineage_path_for(output)
    try:
        output_sha = write_frame(forecast, output)
        lineage = _lineage(
            ref,
            data,
            input_sha,
            as_of,
            history,
            state,
            engine,
            output,
            output_sha,
            forecast,
            run_id,
            stale,
            drop_stale,
            levels,
        )
        write_json(lineage_path, lineage)
    except OSError as exc:  # a folder in the way, no permission, a full disk
        raise InputError(
            f"{exc.filename or output}: cannot write the forecast: {exc.strerror or exc}"
        ) from None
    mlflow.set_tags({f"lineage.{k}": "" if v is None else str(v) for k, v in lineage.items()})
    mlflow.log_metrics({"rows": len(forecast), "series": lineage["series"]})
    mlflow.log_dict(lineage, "lineage.json")
    log.info("wrote %d rows to %s", len(forecast), output)
    return BatchResult(output, lineage_path, lineage, forecast, run_id)
