"""One conversion from a frequency to a step, used by the grid check, the calendar features and
the season length."""

from __future__ import annotations

import pandas as pd
import pytest

from forecasting.data.frequency import fixed_step, parse_freq
from forecasting.errors import DataError, first_line


@pytest.mark.parametrize(
    ("freq", "step"),
    [
        ("h", pd.Timedelta(hours=1)),
        ("15min", pd.Timedelta(minutes=15)),
        ("D", pd.Timedelta(days=1)),
        ("7D", pd.Timedelta(days=7)),
        ("W", None),  # weeks end on a weekday: a calendar frequency
        ("MS", None),
        ("B", None),
        ("not a frequency", None),
    ],
)
def test_fixed_step(freq, step):
    assert fixed_step(freq) == step
    if step is not None:
        assert fixed_step(parse_freq(freq)) == step


def test_an_unknown_frequency_names_where_it_came_from():
    with pytest.raises(DataError, match=r"--freq: unknown frequency 'fortnightly'"):
        parse_freq("fortnightly")


def test_first_line_of_an_exception():
    assert first_line(ValueError("  bad value\n  more detail\n")) == "bad value"
    assert first_line(KeyError()) == "KeyError"
    assert first_line(OSError("disk full\nerrno 28"), with_type=True) == "OSError: disk full"
