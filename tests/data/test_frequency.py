"""One conversion from a frequency to a step, used by the grid check, the calendar features and
the season length."""

from __future__ import annotations

import pandas as pd
import pytest

from forecasting.data.frequency import fixed_step, frequency_mismatch, parse_freq
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


MONDAYS = pd.Series(pd.date_range("2024-01-01", periods=6, freq="7D"))  # 2024-01-01 is a Monday
TUESDAYS = MONDAYS + pd.Timedelta(days=1)


@pytest.mark.parametrize(
    ("found", "expected", "times"),
    [
        ("7D", "W-MON", MONDAYS),
        ("W-MON", "7D", MONDAYS),
        ("7D", "7D", TUESDAYS),
        ("7D", "W", MONDAYS + pd.Timedelta(days=6)),  # W is W-SUN
        ("D", "24h", MONDAYS),
        ("MS", "MS", MONDAYS),
    ],
)
def test_the_same_frequency_however_it_is_spelled(found, expected, times):
    assert frequency_mismatch(parse_freq(found), expected, times) is None


@pytest.mark.parametrize(
    ("found", "expected", "times", "message"),
    [
        (
            "7D",
            "W-MON",
            TUESDAYS,
            "the data are at frequency '7D' (on Tuesdays), the model was trained at 'W-MON' (Mondays)",
        ),
        (
            "14D",
            "W-MON",
            MONDAYS,
            "the data are at frequency '14D' (on Mondays), the model was trained at 'W-MON' (Mondays)",
        ),
        ("h", "D", MONDAYS, "the data are at frequency 'h', the model was trained at 'D'"),
        ("MS", "ME", MONDAYS, "the data are at frequency 'MS', the model was trained at 'ME'"),
    ],
)
def test_a_genuinely_different_frequency_says_how(found, expected, times, message):
    assert frequency_mismatch(parse_freq(found), expected, times) == message
