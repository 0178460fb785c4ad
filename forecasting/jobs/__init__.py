"""Jobs the scheduler runs that need a comparison (retraining); above experiments and serving."""
