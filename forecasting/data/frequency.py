"""A frequency string: parsed, named, and as a fixed step where it has one.

The one place that turns a pandas frequency into a step; the windowing (calendar features),
the baselines (season length), the grid check and the packaged model's check of a user's
history (the same frequency however it is spelled: 7D, W, W-MON) all ask here.
"""

from __future__ import annotations

import warnings

import pandas as pd
from pandas.tseries.frequencies import to_offset
from pandas.tseries.offsets import Week

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


_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def _length(offset: pd.DateOffset) -> pd.Timedelta | None:
    """The length of one step where every step has the same one: ticks, and weeks (7 days
    whatever their anchor); None for months, quarters, business days and the like."""
    if isinstance(offset, Week):
        return pd.Timedelta(days=7 * offset.n)
    return fixed_step(offset)


def _anchor(offset: pd.DateOffset) -> int | None:
    """The weekday an anchored weekly offset falls on (W-MON: 0), else None."""
    return offset.weekday if isinstance(offset, Week) else None


def _describe(offset: pd.DateOffset, times: pd.Series | None = None) -> str:
    """``'W-MON'`` (Mondays), or ``'7D'`` (on Tuesdays) when every timestamp shares one weekday."""
    anchor = _anchor(offset)
    if anchor is None and times is not None and len(times):
        step = _length(offset)
        weekdays = pd.DatetimeIndex(times).weekday.unique()
        if (
            step is not None
            and step % pd.Timedelta(days=7) == pd.Timedelta(0)
            and len(weekdays) == 1
        ):
            return f"{offset.freqstr!r} (on {_WEEKDAYS[weekdays[0]]}s)"
    if anchor is not None:
        return f"{offset.freqstr!r} ({_WEEKDAYS[anchor]}s)"
    return repr(offset.freqstr)


def frequency_mismatch(
    found: pd.DateOffset, expected: str | pd.DateOffset, times: pd.Series
) -> str | None:
    """Whether data stepping by ``found`` at timestamps ``times`` are at ``expected``, by meaning.

    ``7D``, ``W`` and ``W-MON`` are the same frequency when the steps are equally long and every
    timestamp falls on the anchor of whichever is anchored (weekly data on Mondays is ``W-MON``
    whether it was spelled ``7D`` or ``W-MON``; on Tuesdays it is not). Frequencies without a
    fixed length (MS, QE, B) must be the same offset.

    Returns:
        None when they match; otherwise the clause for the caller's one-line message:
        "the data are at frequency '7D' (on Tuesdays), the model was trained at 'W-MON' (Mondays)".
    """
    expected = to_offset(expected)
    if found == expected:
        return None
    length = _length(found)
    same = length is not None and length == _length(expected)
    if same:
        stamps = pd.DatetimeIndex(times)
        for offset in (found, expected):
            anchor = _anchor(offset)
            if anchor is not None and (stamps.weekday != anchor).any():
                same = False
    if same:
        return None
    return f"the data are at frequency {_describe(found, times)}, the model was trained at {_describe(expected)}"


def steps_before(stamp: pd.Timestamp, freq: str | pd.DateOffset, steps: int) -> pd.Timestamp:
    """``stamp`` moved back by ``steps`` steps of ``freq`` (calendar offsets first roll back
    to their own grid: 2024-03-15 minus 2 MS is 2024-02-01)."""
    offset = to_offset(freq)
    step = fixed_step(offset)
    if step is not None:
        return stamp - steps * step
    return stamp - steps * offset
