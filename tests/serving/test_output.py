"""Forecast files appear whole or not at all, even when the writer is killed with SIGKILL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from forecasting.errors import InputError
from forecasting.serving.output import write_frame

# A child that builds a large forecast-shaped frame, says "ready", then writes it slowly
# (small CSV chunks) through the atomic writer.
WRITER = """
import sys
import numpy as np, pandas as pd
from forecasting.serving.output import write_frame
n = int(sys.argv[2])
frame = pd.DataFrame({
    "unique_id": np.char.add("series-", (np.arange(n) % 1000).astype(str)),
    "ds": pd.date_range("2024-01-01", periods=n, freq="min"),
    "y_hat": np.random.default_rng(0).normal(size=n),
})
print("ready", flush=True)
write_frame(frame, sys.argv[1], chunk_rows=2_000)
print("done", flush=True)
"""


def _temporaries(path: Path) -> list[Path]:
    return sorted(path.parent.glob(f".{path.name}.*.tmp"))


def _kill_mid_write(path: Path, rows: int = 3_000_000) -> Path:
    """Start the writer, SIGKILL it once its temporary file has data; return that temporary."""
    child = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(path), str(rows)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert child.stdout.readline().strip() == "ready"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            partial = [t for t in _temporaries(path) if t.stat().st_size > 1_000_000]
            if partial:
                break
            time.sleep(0.02)
        else:
            pytest.fail("the writer never started writing")
        assert child.poll() is None, "the writer finished before it could be killed"
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert child.returncode == -signal.SIGKILL
    return partial[0]


def test_sigkill_mid_write_leaves_nothing_at_the_output_path(tmp_path):
    output = tmp_path / "forecasts" / "big.csv"
    partial = _kill_mid_write(output)
    assert not output.exists()
    assert partial.exists()  # the killed write was really under way

    # Overwriting a good file: a killed write leaves the old bytes in place.
    small = pd.DataFrame({"unique_id": ["a"], "ds": [pd.Timestamp("2024-01-01")], "y_hat": [1.5]})
    write_frame(small, output)
    assert not partial.exists()  # the next write cleared the dead process's leftover
    before = output.read_bytes()
    _kill_mid_write(output)
    assert output.read_bytes() == before
    pd.testing.assert_frame_equal(pd.read_csv(output, parse_dates=["ds"]), small)


@pytest.mark.parametrize("name", ["forecast.csv", "forecast.parquet"])
def test_same_frame_same_bytes_and_a_faithful_round_trip(tmp_path, name):
    frame = pd.DataFrame(
        {
            "unique_id": ["a", "a", "b"],
            "ds": pd.to_datetime(["2024-01-01 00:00", "2024-01-01 01:00", "2024-01-01 00:00"]),
            "y_hat": [0.1, 1 / 3, np.pi],
        }
    )
    first, second = tmp_path / "one" / name, tmp_path / "two" / name
    write_frame(frame, first)
    time.sleep(1.1)  # nothing time-dependent may go into the file
    write_frame(frame, second)
    assert first.read_bytes() == second.read_bytes()
    back = (
        pd.read_csv(first, parse_dates=["ds"]) if name.endswith(".csv") else pd.read_parquet(first)
    )
    pd.testing.assert_frame_equal(back, frame)
    assert oct(first.stat().st_mode & 0o777) == oct(0o666 & ~_umask())


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_unknown_extension_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="unsupported output type '.txt'"):
        write_frame(pd.DataFrame({"a": [1]}), tmp_path / "x.txt")
    assert list(tmp_path.iterdir()) == []
