"""The packaged forecaster: the one owner of its format.

- :mod:`~forecasting.packaging.layout`: artifact names and the output column ``y_hat``;
- :mod:`~forecasting.packaging.state`: :class:`PackagedState`, typed and versioned, saved as JSON;
- :mod:`~forecasting.packaging.history`: a user's history checked against the state, cut at ``as_of``;
- :mod:`~forecasting.packaging.folder`: the state and Keras model of a packaged model's folder;
- :mod:`~forecasting.packaging.fallback`: the baseline that forecasts series too short for the lookback;
- :mod:`~forecasting.packaging.pyfunc`: ``ForecasterModel``, the MLflow pyfunc;
- :mod:`~forecasting.packaging.entry`: the file MLflow runs to obtain it ("model from code");
- :mod:`~forecasting.packaging.log`: ``log_forecaster``, a trained model to the active MLflow run.

Importing this package loads neither MLflow nor TensorFlow (``pyfunc``, ``entry`` and ``log`` do).
"""

from forecasting.packaging.layout import FORECASTER, Y_HAT
from forecasting.packaging.state import FORMAT_VERSION, SUPPORTED_VERSIONS, PackagedState

__all__ = ["FORECASTER", "FORMAT_VERSION", "SUPPORTED_VERSIONS", "Y_HAT", "PackagedState"]
