"""The module name that packaged models logged before :mod:`forecasting.packaging` import.

Their entry file (``pyfunc_entry.py``, copied into each model) runs
``from forecasting.tracking.pyfunc_model import ForecasterModel``. In a process that has
already imported this package (``forecast predict``, the scheduler, Spark workers) that
import resolves here rather than to the code shipped inside the model, so it must keep working.
"""

from forecasting.packaging.pyfunc import ForecasterModel

__all__ = ["ForecasterModel"]
