"""MLflow glue: the store, runs that end FAILED with a reason, plots and the pyfunc model."""
