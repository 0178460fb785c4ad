"""Cron expressions and time zones: crontab(5) lines as APScheduler 3 ``CronTrigger`` objects.

Five fields (minute hour day month weekday, weekday 0 or 7 = Sunday as in crontab(5),
which APScheduler 3.x numbers differently, so numbers are translated to day names) or six
with seconds first. They are evaluated in UTC unless a time zone is given.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from forecasting.errors import InputError

# crontab(5) weekday numbers: 0 and 7 are Sunday. APScheduler 3.x takes 0 as Monday.
_WEEKDAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")


def parse_timezone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        raise InputError(
            f"--timezone {name!r}: unknown time zone (examples: UTC, Europe/Berlin)"
        ) from None


def _weekday_number(text: str, expr: str) -> int:
    text = text.strip().lower()
    if text.isdigit() and 0 <= int(text) <= 7:
        return int(text)
    if text[:3] in _WEEKDAYS and len(text) == 3:
        return _WEEKDAYS.index(text)
    raise InputError(f"--cron {expr!r}: weekday {text!r} is not 0-7 or sun..sat")


def crontab_weekdays(field: str, expr: str = "") -> str:
    """A crontab weekday field as APScheduler day names: ``1-5`` -> ``mon,tue,wed,thu,fri``."""
    if field in ("*", "?"):
        return "*"
    days: set[int] = set()
    for part in field.split(","):
        body, _, step_text = part.partition("/")
        if step_text and not (step_text.isdigit() and int(step_text) > 0):
            raise InputError(
                f"--cron {expr!r}: weekday step {step_text!r} is not a positive integer"
            )
        step = int(step_text) if step_text else 1
        if body == "*":
            low, high = 0, 6
        elif "-" in body:
            a, b = body.split("-", 1)
            low, high = _weekday_number(a, expr), _weekday_number(b, expr)
            if high == 0:  # "fri-sun" written with sun = 0
                high = 7
        else:
            low = _weekday_number(body, expr)
            high = 6 if step_text else low
        if low > high:
            raise InputError(f"--cron {expr!r}: weekday range {body!r} runs backwards")
        days.update(d % 7 for d in range(low, high + 1, step))
    return ",".join(_WEEKDAYS[d] for d in sorted(days))


def parse_cron(expr: str, timezone: str | None = None):
    """``CronTrigger`` for a 5-field crontab line, or 6 fields with seconds first.

    Raises:
        InputError: wrong number of fields, a value out of range, or a schedule that never fires.
    """
    from apscheduler.triggers.cron import CronTrigger

    tz = parse_timezone(timezone)
    fields = (expr or "").split()
    if len(fields) == 5:
        fields = ["0", *fields]
    if len(fields) != 6:
        raise InputError(
            f"--cron {expr!r}: expected 5 fields (minute hour day month weekday) "
            f"or 6 with seconds first, got {len(fields)}"
        )
    second, minute, hour, day, month, weekday = fields
    try:
        trigger = CronTrigger(
            second=second,
            minute=minute,
            hour=hour,
            day=day,
            month=month,
            day_of_week=crontab_weekdays(weekday, expr),
            timezone=tz,
        )
    except ValueError as exc:
        raise InputError(f"--cron {expr!r}: {exc}") from None
    if trigger.get_next_fire_time(None, datetime.now(tz)) is None:
        raise InputError(f"--cron {expr!r}: never fires")
    return trigger


def nominal_run_time(trigger, now: datetime, grace_seconds: float) -> datetime:
    """The latest fire time of ``trigger`` not after ``now`` (within the grace window), else now."""
    fire = trigger.get_next_fire_time(None, now - timedelta(seconds=grace_seconds + 1))
    latest = None
    while fire is not None and fire <= now:
        latest = fire
        fire = trigger.get_next_fire_time(fire, fire + timedelta(microseconds=1))
    return latest or now.replace(microsecond=0)
