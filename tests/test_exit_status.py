"""The exit statuses are owned by one enum, and README.md's table lists exactly those."""

from __future__ import annotations

import re
from pathlib import Path

from forecasting.errors import Busy, ConfigError, DataError, ForecastingError, InputError, JobFailed
from forecasting.exit_status import ExitStatus
from forecasting.serving.schedule.lock import SchedulerBusy

README = Path(__file__).resolve().parents[1] / "README.md"


def _readme_rows() -> dict[int, str]:
    text = README.read_text()
    section = text[text.index("### Exit statuses") :]
    section = section[: section.index("\n## ")]
    return {int(m[1]): m[2] for m in re.finditer(r"^\| (\d+) \| `(\w+)` \|", section, re.MULTILINE)}


def test_readme_lists_every_exit_status_and_no_other():
    assert _readme_rows() == {int(s): s.name for s in ExitStatus}


def test_statuses_are_distinct_and_only_interruption_looks_like_a_signal():
    values = [int(s) for s in ExitStatus]
    assert len(set(values)) == len(values) and all(0 <= v < 256 for v in values)
    assert [s for s in ExitStatus if s > 128] == [ExitStatus.INTERRUPTED]


def test_each_error_class_carries_its_status():
    assert [e.exit_status for e in (InputError, DataError, ConfigError)] == [
        ExitStatus.BAD_INPUT
    ] * 3
    assert JobFailed.exit_status == ExitStatus.JOB_FAILED
    assert SchedulerBusy.exit_status == Busy.exit_status == ExitStatus.BUSY
    assert not issubclass(SchedulerBusy, InputError)  # a held lock is not bad input
    assert all(issubclass(e, ForecastingError) for e in (InputError, JobFailed, Busy))
