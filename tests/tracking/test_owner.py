"""Runs name their process; RUNNING runs of a process of this host that is gone end KILLED."""

from __future__ import annotations

import logging
import socket
import subprocess
import sys

import mlflow
import pytest

from forecasting.tracking.owner import (
    HOST_TAG,
    PID_TAG,
    START_TAG,
    end_orphaned_runs,
    ownership_tags,
    process_gone,
    process_start,
)
from forecasting.tracking.runs import REASON_TAG, tracked_run
from forecasting.tracking.store import use_store


@pytest.fixture
def gone_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


@pytest.fixture
def live_child():
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    yield proc
    proc.kill()
    proc.wait()


def test_a_gone_process_is_gone_and_a_live_one_is_not(gone_pid, live_child):
    assert not process_gone(ownership_tags())
    assert process_gone({PID_TAG: str(gone_pid)})
    live = {PID_TAG: str(live_child.pid)}
    assert not process_gone(live)
    start = process_start(live_child.pid)
    if start is None:
        pytest.skip("no /proc: a reused pid cannot be told apart")
    assert not process_gone(live | {START_TAG: start})
    # the same pid, started at another time: a later process that reused the pid
    assert process_gone(live | {START_TAG: str(int(start) + 1)})


def test_tracked_runs_name_their_process(tmp_path):
    use_store(f"sqlite:///{tmp_path / 'mlflow.db'}")
    with tracked_run(tags={"role": "x"}) as run:
        pass
    tags = mlflow.get_run(run.info.run_id).data.tags
    assert tags["role"] == "x"
    assert {k: tags[k] for k in ownership_tags()} == ownership_tags()
    assert tags[HOST_TAG] == socket.gethostname()


def test_only_runs_of_gone_processes_on_this_host_end_killed(tmp_path, gone_pid, caplog):
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    use_store(uri)
    client = mlflow.MlflowClient(tracking_uri=uri)
    experiment = client.create_experiment("owners")
    host = socket.gethostname()

    def run(**tags):
        return client.create_run(experiment, tags=tags).info.run_id

    orphan = run(**{PID_TAG: str(gone_pid), HOST_TAG: host})
    mine = run(**ownership_tags())
    elsewhere = run(**{PID_TAG: str(gone_pid), HOST_TAG: "another-host"})
    untagged = run()
    done = run(**{PID_TAG: str(gone_pid), HOST_TAG: host})
    client.set_terminated(done, "FINISHED")

    with caplog.at_level(logging.INFO, logger="forecasting.tracking.owner"):
        assert end_orphaned_runs(uri) == [orphan]
    status = {r: client.get_run(r).info.status for r in (orphan, mine, elsewhere, untagged, done)}
    assert status == {
        orphan: "KILLED",
        mine: "RUNNING",
        elsewhere: "RUNNING",
        untagged: "RUNNING",
        done: "FINISHED",
    }
    reason = client.get_run(orphan).data.tags[REASON_TAG]
    assert reason.startswith(f"process {gone_pid} on host {host} is gone")
    assert "ended 1 RUNNING run(s) as KILLED" in caplog.text
    # a second look finds nothing left to end
    assert end_orphaned_runs(uri) == []


def test_a_new_sqlite_store_uses_the_write_ahead_log(tmp_path):
    from forecasting.tracking.sqlite import journal_mode

    db = tmp_path / "new" / "mlflow.db"
    use_store(f"sqlite:///{db}")
    assert journal_mode(db) == "wal"
