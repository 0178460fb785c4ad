"""Serving: batch predictions from registered forecasters, schedules for them, Spark scoring.

Model URIs are resolved by :mod:`forecasting.tracking.model_ref`; the packaged model's format
and the history checks are :mod:`forecasting.packaging`.

- :mod:`~forecasting.serving.batch`: validate the input against the model, forecast, write
  the output and its lineage, one MLflow run per prediction;
- :mod:`~forecasting.serving.output`: forecast files (CSV or Parquet), written atomically;
- :mod:`~forecasting.serving.schedule`: cron schedules in a persistent APScheduler job store;
- :mod:`~forecasting.serving.spark`: the same pyfunc, one pandas group per series on Spark.

Submodules are imported on use; importing this package loads neither MLflow nor TensorFlow.
"""
