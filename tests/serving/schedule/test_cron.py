"""Cron lines, time zones, output templates and the state folder of schedules."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from forecasting.errors import InputError
from forecasting.serving.schedule.cron import crontab_weekdays, nominal_run_time, parse_cron
from forecasting.serving.schedule.state import STATE_ENV, state_dir
from forecasting.serving.schedule.templates import check_template, render_output


@pytest.mark.parametrize(
    ("field", "expected"),
    [
        ("*", "*"),
        ("0", "sun"),
        ("7", "sun"),
        ("1-5", "mon,tue,wed,thu,fri"),
        ("mon-fri", "mon,tue,wed,thu,fri"),
        ("*/2", "sun,tue,thu,sat"),
        ("5-7", "sun,fri,sat"),
        ("sat,sun", "sun,sat"),
    ],
)
def test_crontab_weekday_numbers_mean_what_crontab_says(field, expected):
    assert crontab_weekdays(field) == expected


def test_cron_is_utc_unless_a_time_zone_is_given():
    start = datetime(2024, 1, 1, tzinfo=UTC)  # a Monday
    sunday = parse_cron("30 7 * * 0").get_next_fire_time(None, start)
    assert sunday == datetime(2024, 1, 7, 7, 30, tzinfo=UTC)
    berlin = parse_cron("0 6 * * *", "Europe/Berlin").get_next_fire_time(None, start)
    assert berlin == datetime(2024, 1, 1, 6, 0, tzinfo=ZoneInfo("Europe/Berlin"))
    assert berlin.astimezone(UTC).hour == 5
    seconds = parse_cron("*/20 * * * * *").get_next_fire_time(
        None, datetime(2024, 1, 1, 0, 0, 1, tzinfo=UTC)
    )
    assert seconds == datetime(2024, 1, 1, 0, 0, 20, tzinfo=UTC)


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("61 * * * *", "higher than the maximum value (59)"),
        ("* * *", "expected 5 fields"),
        ("0 0 30 2 *", "never fires"),
        ("0 0 * * 9", "weekday '9' is not 0-7"),
        ("", "expected 5 fields"),
    ],
)
def test_bad_cron_is_an_input_error(expr, expected):
    with pytest.raises(InputError, match=expected.replace("(", r"\(").replace(")", r"\)")):
        parse_cron(expr)


def test_a_run_is_as_of_the_fire_time_it_was_scheduled_for():
    trigger = parse_cron("*/10 * * * * *")
    late = datetime(2024, 1, 1, 12, 0, 7, 500_000, tzinfo=UTC)
    assert nominal_run_time(trigger, late, 300) == datetime(2024, 1, 1, 12, 0, 0, tzinfo=UTC)
    hourly = parse_cron("0 * * * *")
    assert nominal_run_time(hourly, late, 60) == datetime(2024, 1, 1, 12, 0, 0, tzinfo=UTC)
    much_later = datetime(
        2024, 1, 1, 12, 5, 7, 500_000, tzinfo=UTC
    )  # no fire time within the grace time
    assert nominal_run_time(hourly, much_later, 60) == datetime(2024, 1, 1, 12, 5, 7, tzinfo=UTC)


def test_output_templates():
    as_of = datetime(2024, 1, 31, 23, 0, tzinfo=UTC)
    assert render_output("out/{name}/{as_of:%Y%m%d%H}.parquet", as_of, "daily") == Path(
        "out/daily/2024013123.parquet"
    )
    with pytest.raises(InputError, match="unknown field {when}"):
        check_template("out/{when}.csv")
    with pytest.raises(InputError, match="unsupported output type"):
        check_template("out/{as_of:%Y}.txt")


def test_state_dir_flag_then_environment_then_default(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(STATE_ENV, raising=False)
    assert state_dir() == tmp_path / ".forecast"
    monkeypatch.setenv(STATE_ENV, str(tmp_path / "from-env"))
    assert state_dir() == tmp_path / "from-env"
    assert state_dir(tmp_path / "flag") == tmp_path / "flag"
