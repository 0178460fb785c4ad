"""Distributed scoring: the packaged pyfunc on Spark, one pandas group per series.

The driver has already validated and cut the history (:mod:`forecasting.serving.batch`);
here it is staged as Parquet, read by Spark, grouped by series id and scored with
``groupBy(id).applyInPandas``: each group is one series' history, and the same MLflow
pyfunc that the local engine uses turns it into that series' next H steps. The model
folder is shipped to the executors with ``SparkContext.addFile`` and loaded once per
Python worker. ``mlflow.pyfunc.spark_udf`` is not used: it maps each input row to one
output row, while a forecaster maps a series' history to H new rows.

Timestamps travel through Spark as int64 nanoseconds, so no session time zone can
shift them; the result is written as Parquet and read back by the driver.

The executors need this package and the model's dependencies installed (they are on
``local[*]``, where the workers run this interpreter: ``PYSPARK_PYTHON`` is set to it
unless already set).
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import sys
import uuid
from pathlib import Path

import pandas as pd

from forecasting.data import ID
from forecasting.data.schema import Columns
from forecasting.packaging import FORECASTER, Y_HAT
from forecasting.packaging.intervals import PARAM
from forecasting.packaging.layout import TARGET_COLUMN, interval_columns
from forecasting.quiet import stderr_fd_silenced

log = logging.getLogger(__name__)

DEFAULT_MASTER = "local[*]"
_ID, _TIME, _CHANNEL = "__id", "__t", "__c"  # __c: a multichannel target's column ("" for one)
RESULT_SCHEMA = (
    f"{_ID} string, {_CHANNEL} string, {_TIME} long, {Y_HAT} double, {FORECASTER} string"
)


def _bands(levels: tuple[int, ...]) -> list[str]:
    return [name for level in levels for name in interval_columns(level)]


def result_schema(levels: tuple[int, ...] = ()) -> str:
    """The scored groups' schema: :data:`RESULT_SCHEMA` plus the bounds of each level."""
    return RESULT_SCHEMA + "".join(f", {name} double" for name in _bands(levels))


_LOG4J = """\
rootLogger.level = error
rootLogger.appenderRef.stderr.ref = console
appender.console.type = Console
appender.console.name = console
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %d{HH:mm:ss} %p %c{1}: %m%n
# Spark shells (PySpark counts as one) otherwise announce their own default level on start.
logger.repl.name = org.apache.spark.repl.Main
logger.repl.level = error
"""

# Loaded models, per Python worker process (Spark reuses workers across tasks).
_MODELS: dict[str, object] = {}


def _python_for_workers() -> None:
    """Spark's Python workers must run this interpreter (the venv's), not whatever is on PATH."""
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)


@contextlib.contextmanager
def _stderr_silenced():
    """Native start-up lines (the JVM's module warning, TensorFlow's oneDNN/CUDA probing) go to
    fd 2 directly; failures still raise in Python."""
    if log.isEnabledFor(logging.DEBUG):
        yield
        return
    with stderr_fd_silenced():
        yield


def spark_session(
    master: str | None = None, work_dir: Path | None = None, app_name: str = "forecast-predict"
):
    """A small, quiet session: no UI, few shuffle partitions, log level ERROR."""
    _python_for_workers()
    from pyspark.sql import SparkSession

    builder = (
        SparkSession.builder.master(master or DEFAULT_MASTER)
        .appName(app_name)
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.python.worker.reuse", "true")
    )
    if work_dir is not None:  # log4j settings for the JVM that this call starts
        config = Path(work_dir) / "log4j2.properties"
        config.write_text(_LOG4J)
        builder = builder.config(
            "spark.driver.extraJavaOptions", f"-Dlog4j2.configurationFile={config.as_uri()}"
        )
    with _stderr_silenced():
        spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def _load_model(path: str):
    model = _MODELS.get(path)
    if model is None:
        import mlflow

        with _stderr_silenced():
            import tensorflow as tf

            tf.config.list_physical_devices()
        model = _MODELS[path] = mlflow.pyfunc.load_model(path)
    return model


def _forecast_series(
    pdf: pd.DataFrame,
    model_file: str,
    id_name: str | None,
    time_name: str,
    value_names: list[str],
    levels: tuple[int, ...] = (),
) -> pd.DataFrame:
    """Executor side: one series' history (staged names) -> its forecast (staged names)."""
    from pyspark import SparkFiles

    model = _load_model(SparkFiles.get(model_file))
    pdf = pdf.sort_values(_TIME, kind="stable")
    frame = pd.DataFrame({time_name: pdf[_TIME].to_numpy().astype("datetime64[ns]")})
    if id_name is not None:
        frame.insert(0, id_name, pdf[_ID].to_numpy())
    for i, name in enumerate(value_names):
        frame[name] = pdf[f"__v{i}"].to_numpy()
    forecast = model.predict(frame, params={PARAM: list(levels)} if levels else None)
    out = pd.DataFrame(
        {
            _ID: forecast.iloc[:, 0].astype(str).to_numpy(),
            _CHANNEL: forecast[TARGET_COLUMN].astype(str).to_numpy()
            if TARGET_COLUMN in forecast
            else "",
            _TIME: pd.to_datetime(forecast[time_name])
            .to_numpy()
            .astype("datetime64[ns]")
            .astype("int64"),
            Y_HAT: forecast[Y_HAT].astype("float64").to_numpy(),
            FORECASTER: forecast[FORECASTER].astype(str).to_numpy()
            if FORECASTER in forecast
            else "",
        }
    )
    for name in _bands(levels):
        out[name] = forecast[name].astype("float64").to_numpy()
    return out


def _scorer(
    model_file: str,
    id_name: str | None,
    time_name: str,
    value_names: list[str],
    levels: tuple[int, ...] = (),
):
    """A plain function of one group (Spark inspects its signature, so not a partial)."""

    def score(pdf: pd.DataFrame) -> pd.DataFrame:
        return _forecast_series(pdf, model_file, id_name, time_name, value_names, levels)

    return score


def stage_history(
    history: pd.DataFrame, columns: Columns
) -> tuple[pd.DataFrame, str | None, list[str]]:
    """History with Spark-safe names and int64 times; returns it, the id name and the value names."""
    id_name = columns.id if columns.id in history.columns else None
    value_names = [c for c in history.columns if c not in (columns.id, columns.time)]
    staged = pd.DataFrame(
        {
            _ID: history[columns.id].astype(str) if id_name else "series",
            _TIME: history[columns.time].to_numpy().astype("datetime64[ns]").astype("int64"),
        }
    )
    for i, name in enumerate(value_names):
        staged[f"__v{i}"] = history[name].astype("float64")
    return staged, id_name, value_names


def score_with_spark(
    model_dir: Path,
    history: pd.DataFrame,
    columns: Columns,
    work_dir: Path,
    master: str | None = None,
    levels: tuple[int, ...] = (),
) -> pd.DataFrame:
    """Forecast every series of ``history`` on Spark; returns id, time, ``y_hat``, the bounds of
    each interval level in ``levels`` and ``forecaster``, as the pyfunc does."""
    from pyspark.sql import SparkSession

    work_dir = Path(work_dir) / f"spark-{uuid.uuid4().hex[:8]}"
    work_dir.mkdir(parents=True)
    staged, id_name, value_names = stage_history(history, columns)
    staged_path = work_dir / "history.parquet"
    staged.to_parquet(staged_path, index=False)
    shipped = work_dir / f"model-{uuid.uuid4().hex[:8]}"
    shutil.copytree(model_dir, shipped)

    started_here = SparkSession.getActiveSession() is None
    spark = spark_session(master, work_dir)
    try:
        spark.sparkContext.addFile(str(shipped), recursive=True)
        n_series = int(staged[_ID].nunique())
        spark.conf.set(
            "spark.sql.shuffle.partitions",
            str(max(1, min(n_series, 2 * spark.sparkContext.defaultParallelism))),
        )
        log.info("scoring %d series on Spark (%s)", n_series, spark.sparkContext.master)
        score = _scorer(shipped.name, id_name, columns.time, value_names, tuple(levels))
        result_path = work_dir / "forecast.parquet"
        (
            spark.read.parquet(str(staged_path))
            .groupBy(_ID)
            .applyInPandas(score, schema=result_schema(tuple(levels)))
            .write.mode("overwrite")
            .parquet(str(result_path))
        )
    finally:
        if started_here:
            spark.stop()
    result = pd.read_parquet(result_path)
    channel = (
        {TARGET_COLUMN: result[_CHANNEL].astype(str).to_numpy()} if columns.multichannel else {}
    )
    return pd.DataFrame(
        {id_name or ID: result[_ID].astype(str).to_numpy()}
        | channel
        | {
            columns.time: result[_TIME].to_numpy().astype("datetime64[ns]"),
            Y_HAT: result[Y_HAT].to_numpy(),
        }
        | {name: result[name].to_numpy() for name in _bands(tuple(levels))}
        | {FORECASTER: result[FORECASTER].to_numpy()}
    )
