"""A frequency string: parsed, named, and as a fixed step where it has one.

The one place that turns a pandas frequency into a step; the windowing (calendar features),
the baselines (season length) and the grid check all ask here.
"""

from __future__ import annotations

import warnings

import pandas as pd
from pandas.tseries.frequencies import to_offset

from forecasting.errors import DataError


def parse_freq(freq: str, source: str = "--freq") -> pd.DateOffset:
    """``freq`` as a pandas offset; an unknown alias is a :class:`DataError` naming ``source``."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return to_offset(freq)
    except (ValueError, TypeError) as exc:
        raise DataError(
            f"{source}: unknown frequency {freq!r} (examples: h, 15min, D, W, MS)"
        ) from exc


def freq_name(offset: pd.DateOffset) -> str:
    return offset.freqstr


def fixed_step(freq: str | pd.DateOffset) -> pd.Timedelta | None:
    """The step of ``freq`` as a Timedelta for fixed frequencies (min, h, D), None for calendar
    ones whose length varies (W-SUN, MS, QE, B) and for strings pandas does not know."""
    try:
        return pd.Timedelta(to_offset(freq))
    except (ValueError, TypeError):
        return None
