"""The comparison as a user sees it in the MLflow UI, in a real headless browser (Debian's
``chromium``): the experiment page in the model-training view lists the comparison by its
name, and the parent run's page shows the decision, the table and both families' runs.

The screenshots land in the test's ``tmp_path`` (pytest keeps the last few), never in git.
Browser builds cannot be downloaded at run time here, so the test drives the system chromium
with its own headless flags; without it the test skips with the install hint (`.ci/run`
installs it in CI, which runs as root).
"""

from __future__ import annotations

import contextlib
import html
import os
import re
import shutil
import signal
import socket
import subprocess
from pathlib import Path

import pytest

from forecasting.tracking.server import start_server, stop_server, wait_until_up
from forecasting.tracking.store import run_link, ui_links

INSTALL_HINT = "chromium not found: install Debian's package (`sudo apt-get install -y chromium`)"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _chromium() -> str:
    found = shutil.which("chromium")
    if found is None:
        pytest.skip(INSTALL_HINT)
    return found


def _browse(chromium: str, url: str, profile: Path, *action: str) -> subprocess.CompletedProcess:
    """Load ``url`` in a fresh headless chromium, let the single-page app fetch and render
    (virtual time), then take the action (``--dump-dom`` or ``--screenshot=PATH``)."""
    return subprocess.run(
        [
            chromium,
            "--headless",
            "--no-sandbox",  # CI runs as root
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--hide-scrollbars",
            f"--user-data-dir={profile}",  # nothing remembered from another session
            "--window-size=1600,1200",
            "--virtual-time-budget=20000",
            *action,
            url,
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )


def _page_text(chromium: str, url: str, profile: Path, expected: str) -> str:
    """The rendered page's visible text; retried while ``expected`` has not appeared yet."""
    text = ""
    for _ in range(3):
        dom = _browse(chromium, url, profile, "--dump-dom").stdout
        dom = re.sub(r"<(script|style)\b.*?</\1>", " ", dom, flags=re.S)
        text = re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", dom)))
        if expected in text:
            break
    return text


def _screenshot(chromium: str, url: str, profile: Path, path: Path) -> None:
    proc = _browse(chromium, url, profile, f"--screenshot={path}")
    assert path.is_file(), proc.stderr[-2000:]
    data = path.read_bytes()
    assert data[:8] == PNG_MAGIC and len(data) > 20_000, f"{path}: an empty page?"


@pytest.fixture
def ui(comparison, tmp_path):
    """A real ``mlflow server`` over the shared comparison's store; its whole process group
    ends afterwards."""
    chromium = _chromium()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log_path = tmp_path / "server.log"
    with open(log_path, "wb") as log_file:
        proc = start_server(comparison.tracking_uri, "127.0.0.1", port, log_file=log_file)
    pgid = os.getpgid(proc.pid)
    try:
        try:
            wait_until_up(url, proc, timeout=150)
        except (RuntimeError, TimeoutError) as exc:
            pytest.fail(f"{exc}\n{log_path.read_text()[-3000:]}")
        yield chromium, url
    finally:
        stop_server(proc)
        with contextlib.suppress(ProcessLookupError):  # never leave a stray server behind
            os.killpg(pgid, signal.SIGKILL)


@pytest.mark.slow
def test_experiment_and_parent_run_read_at_a_glance(ui, comparison, tmp_path):
    chromium, url = ui
    result = comparison.result
    client = comparison.client()
    parent_name = client.get_run(result.parent_run_id).info.run_name
    winner = result.decision.winner.upper()

    # The experiment, by the link `forecast ui` and the comparison's summary print.
    experiment_page = ui_links(url, result.experiment_id)[0]
    text = _page_text(chromium, experiment_page, tmp_path / "profile-1", parent_name)
    assert parent_name in text, text[:2000]
    assert "Model training" in text and "Evaluation runs" not in text, (
        "the link opens the model-training view, not the GenAI one"
    )
    _screenshot(chromium, experiment_page, tmp_path / "profile-2", tmp_path / "experiment.png")

    # The parent run: the decision first, the table, and both families' runs.
    run_page = run_link(url, result.experiment_id, result.parent_run_id)
    text = _page_text(chromium, run_page, tmp_path / "profile-3", f"Decision: {winner}")
    assert parent_name in text
    assert f"Decision: {winner}" in text, text[:3000]
    assert result.decision.reason in text
    for name in ("lstm", "gru", "seasonal_naive", "naive"):
        assert f" {name} {result.table.loc[name, 'mae']:.3f} " in text, f"table row {name}"
    assert re.search(r"Child runs (gru ?, lstm|lstm ?, gru)\b", text), "both families' runs"
    _screenshot(chromium, run_page, tmp_path / "profile-4", tmp_path / "parent_run.png")
