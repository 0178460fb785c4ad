"""Time-series forecasting built around a transparent Keras GRU.

The package is organised one concept per module; see ARCHITECTURE.md at the
repository root for the map.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("forecasting")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
