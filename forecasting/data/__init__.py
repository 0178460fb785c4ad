"""The data layer: read, validate and regularise a user's series into canonical long format."""

from forecasting.data.loading import SeriesData, load_series
from forecasting.data.regularize import FillPolicy
from forecasting.data.schema import ID, TARGET, TIME, Columns

__all__ = ["ID", "TARGET", "TIME", "Columns", "FillPolicy", "SeriesData", "load_series"]
