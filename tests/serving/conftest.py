"""The real `forecast` command line in a subprocess, for the serving tests. The tiny registered
forecaster they serve, ``served_model``, is in tests/conftest.py (tests/tracking resolves it too)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest


def run_forecast(
    args: list[str], env: dict[str, str], cwd: Path, timeout: float = 180
) -> subprocess.CompletedProcess:
    """Run the real `forecast` command line in a subprocess."""
    return subprocess.run(
        [sys.executable, "-m", "forecasting", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture(scope="session")
def forecast_cli():
    """``forecast_cli(args, env, cwd)``: the real command line in a subprocess."""
    return run_forecast
