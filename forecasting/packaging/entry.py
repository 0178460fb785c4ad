"""MLflow "model from code" entry: MLflow runs this file to obtain the packaged forecaster."""

import mlflow

from forecasting.packaging.pyfunc import ForecasterModel

mlflow.models.set_model(ForecasterModel())
