"""Benchmarks of the product, behind ``forecast benchmark PART``; the top of the import layering.

One module per part, each returning a :class:`~forecasting.benchmarks.report.BenchmarkReport`:

- ``speed``: our GRU against ``keras.layers.GRU`` and LSTM, side by side (``forecast benchmark speed``);
- ``windowing``: our sliding windows against ``keras.utils.timeseries_dataset_from_array``
  (``forecast benchmark windowing``);
- ``accuracy``: test MSE/MAE under the standard ETTh1 protocol (``forecast benchmark accuracy``).

``report`` prints, writes (only into ``--out``) and logs a report; ``tracking`` is its run in the
MLflow experiment ``benchmarks``. This package may import every product layer; only
``forecasting.cli`` imports it. Submodules load TensorFlow, so nothing is imported here.
"""
