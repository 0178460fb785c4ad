"""MLflow plumbing: the store, runs that end FAILED with a reason, model URIs, plots, the server.

The packaged forecaster itself (its format, pyfunc and logging) is :mod:`forecasting.packaging`.
"""
