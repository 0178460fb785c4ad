"""A real ``mlflow server`` over the store the shared comparison wrote: the runs and the
champion alias read through REST, and nothing of the server left once it is stopped."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import urllib.parse
import urllib.request

import pytest

from forecasting.tracking.server import start_server, stop_server, wait_until_up


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=30) as response:
        assert response.status == 200
        return json.loads(response.read())


def _post(url: str, body: dict) -> dict:
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status == 200
        return json.loads(response.read())


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.mark.slow
def test_server_serves_the_comparison_and_stops_completely(comparison, tmp_path):
    result = comparison.result
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log_path = tmp_path / "server.log"
    with open(log_path, "wb") as log_file:
        proc = start_server(comparison.tracking_uri, "127.0.0.1", port, log_file=log_file)
    pgid = os.getpgid(proc.pid)
    assert pgid == proc.pid, "the server leads its own process group"
    assert pgid != os.getpgid(0)
    try:
        try:
            wait_until_up(url, proc, timeout=150)
        except (RuntimeError, TimeoutError) as exc:
            pytest.fail(f"{exc}\n{log_path.read_text()[-3000:]}")

        runs = _post(
            f"{url}/api/2.0/mlflow/runs/search",
            {"experiment_ids": [result.experiment_id], "max_results": 100},
        )["runs"]
        by_id = {r["info"]["run_id"]: r for r in runs}
        assert set(by_id) == {result.parent_run_id, *result.run_ids}
        assert {r["info"]["status"] for r in runs} == {"FINISHED"}
        parent_tags = {t["key"]: t["value"] for t in by_id[result.parent_run_id]["data"]["tags"]}
        assert parent_tags["decision.winner"] == result.decision.winner

        query = urllib.parse.urlencode({"name": comparison.model_name, "alias": "champion"})
        version = _get(f"{url}/api/2.0/mlflow/registered-models/alias?{query}")["model_version"]
        candidate = result.decision.candidate  # the kept RNN, or the best baseline
        logged_by = (
            result.families[candidate].run_id
            if candidate in result.families
            else result.parent_run_id  # a packaged baseline is logged in the comparison's run
        )
        assert version["run_id"] == logged_by
        assert version["version"] == result.candidate_version
        assert "champion" in version.get("aliases", ["champion"])
    finally:
        stop_server(proc)
        if _group_alive(
            pgid
        ):  # do not leave a stray server behind even if the assertion below fails
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pgid, signal.SIGKILL)
            stopped_cleanly = False
        else:
            stopped_cleanly = True
    assert proc.returncode is not None
    assert stopped_cleanly, "stop_server left processes of the server's group running"
    with pytest.raises(ProcessLookupError):
        os.killpg(pgid, 0)
    with pytest.raises(OSError):
        urllib.request.urlopen(f"{url}/health", timeout=2)


def _children(pid: int) -> list[int]:
    text = open(f"/proc/{pid}/task/{pid}/children").read()
    return [int(p) for p in text.split()]


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_forecast_ui_ends_the_servers_whole_group_on_a_signal(tmp_path, signum):
    """`forecast ui` killed by SIGTERM (systemd, `kill`) or SIGINT sent to it alone: exit 0 and
    no process of the server's group left behind."""
    import subprocess
    import sys
    import time

    port = free_port()
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    env.pop("MLFLOW_TRACKING_URI", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "forecasting", "ui", "--port", str(port)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # a signal for the test's group must not reach it
    )
    server = None
    try:
        first = proc.stdout.readline()
        assert first.startswith(f"MLflow UI at http://127.0.0.1:{port}"), proc.stderr.read()
        (server,) = _children(proc.pid)
        assert os.getpgid(server) == server  # the server leads a group of its own
        proc.send_signal(signum)
        assert proc.wait(timeout=60) == 0
        deadline = time.monotonic() + 30
        while _group_alive(server) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not _group_alive(server), "processes of the server's group were left running"
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        if server is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(server, signal.SIGKILL)  # only reached when the test failed
