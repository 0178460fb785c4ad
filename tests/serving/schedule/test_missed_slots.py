"""Every slot a schedule missed is in its run history: the ones APScheduler coalesces away while
no scheduler ran too, as `missed` with the slot's time."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

from forecasting.cli import main
from forecasting.serving.schedule import serve
from forecasting.serving.schedule.daemon import COALESCED
from forecasting.serving.schedule.history import RunHistory
from forecasting.serving.schedule.store import add_schedule, get_schedule


def test_slots_passed_while_no_scheduler_ran_are_recorded_missed(served_model, tmp_path, capsys):
    state = tmp_path / "state"
    add_schedule(
        "every-second",
        "* * * * * *",
        served_model.champion,
        tmp_path / "absent.csv",  # each run fails fast: only the slots matter here
        str(tmp_path / "out" / "{as_of:%H%M%S}.csv"),
        tracking_uri=served_model.tracking_uri,
        folder=state,
    )
    first_slot = get_schedule("every-second", state).next_run
    time.sleep(3.5)  # three or four slots pass with no scheduler
    started = datetime.now(UTC)
    stop = threading.Event()
    daemon = threading.Thread(
        target=serve, args=(state,), kwargs={"poll_seconds": 0.5, "stop": stop}
    )
    daemon.start()
    deadline = time.monotonic() + 120  # a loaded machine starts the scheduler slowly
    while time.monotonic() < deadline and not any(
        r.status != "missed" for r in RunHistory(state).runs("every-second")
    ):
        time.sleep(0.2)
    stop.set()
    daemon.join(timeout=60)
    assert not daemon.is_alive()

    runs = RunHistory(state).runs("every-second")
    ran = [r for r in runs if r.status != "missed"]
    assert ran, "the scheduler ran the slot it kept"
    kept = min(datetime.fromisoformat(r.scheduled_for) for r in ran)
    # Slots skipped while a run was still going (a loaded machine) come after the kept one.
    missed = [
        r for r in runs if r.status == "missed" and datetime.fromisoformat(r.scheduled_for) < kept
    ]
    slots = sorted(datetime.fromisoformat(r.scheduled_for) for r in missed)
    # Every slot from the first one after `schedule add` up to the one the scheduler kept
    # (the latest due when it started), one row each, in order, one second apart.
    assert len(slots) >= 2
    assert slots == [first_slot + timedelta(seconds=k) for k in range(len(slots))]
    assert slots[-1] >= started.replace(microsecond=0) - timedelta(seconds=1)
    assert {r.error for r in missed} == {COALESCED}
    assert kept == slots[-1] + timedelta(seconds=1), "the slot kept is the one after them"

    assert (
        main(["schedule", "history", "every-second", "--limit", "100", "--state-dir", str(state)])
        == 0
    )
    listed = capsys.readouterr().out
    for slot in slots:
        assert f"{slot.isoformat()}  missed" in listed
